import ErrorShape
import Foundation
import SmartCardCore

/// The local process's socket at the other end of a bridge connection, as the kernel lists it.
package struct LocalPeer: Hashable, Sendable {
    package var uid: UInt32
    package var inode: UInt64
}

/// Why the bridge could not tell who calls; the connection is refused either way.
package struct PeerLookupError: CodedError {
    package enum Code: String, ErrorCode {
        /// The table could not be read (no /proc?); `path` names it.
        case unreadable
        /// No socket of this host has the connection's client end (`endpoint`): the client already left, or
        /// it is in another network namespace.
        case notFound
    }

    package let code: Code
    package let reason: String
    /// The table that could not be read (`.unreadable`).
    package let path: String?
    /// The client end no table lists (`.notFound`).
    package let endpoint: TCPEndpoint?

    package static func unreadable(_ path: String) -> Self {
        Self(code: .unreadable, reason: "cannot read \(path)", path: path, endpoint: nil)
    }

    package static func notFound(_ endpoint: TCPEndpoint) -> Self {
        Self(code: .notFound, reason: "no local socket \(endpoint) in /proc/net/tcp{,6}", path: nil, endpoint: endpoint)
    }

    /// The reason alone, as the refusal's log line has always read.
    package var description: String { reason }
}

/// Finds the owner of a bridge connection's client socket. A loopback connection has both ends on
/// this host: the client's socket has, as its local end, the connection's remote end, and it is
/// listed with its uid in /proc/net/tcp (IPv4) or /proc/net/tcp6 (IPv6, and IPv4 clients of a
/// dual-stack socket as `::ffff:a.b.c.d`). One table read per connection, two only for an IPv4
/// client on a dual-stack socket. A read blocks the accepting thread about 10 ms (measured on a host
/// with 262,144 established-hash buckets: the kernel walks every bucket, however few sockets there
/// are); that is paid once per connection, and never when the bridge is full. An exact lookup through
/// netlink (sock_diag) would be cheaper, but cpsd's systemd unit allows only AF_UNIX, AF_INET and
/// AF_INET6 sockets, and procfs needs no extra privilege.
package struct LocalPeerLookup: Sendable {
    package var tcpPath = "/proc/net/tcp"
    package var tcp6Path = "/proc/net/tcp6"

    package init() {}

    /// `client` is the connection's remote end, `server` its local end (the bridge's address).
    package func peer(client: TCPEndpoint, server: TCPEndpoint) throws(PeerLookupError) -> LocalPeer {
        let paths = client.isIPv4 ? [tcpPath, tcp6Path] : [tcp6Path]
        for path in paths {
            guard let table = Self.read(path) else {
                if path == tcpPath { continue }  // a host without IPv4 in /proc: try tcp6
                throw .unreadable(path)
            }
            if let entry = ProcNetTCP.find(in: table, local: client, remote: server) {
                return LocalPeer(uid: entry.uid, inode: entry.inode)
            }
        }
        throw .notFound(client)
    }

    /// procfs files report a size of 0: read to the end rather than by size.
    private static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
