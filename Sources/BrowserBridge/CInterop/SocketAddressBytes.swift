import Glibc
import NIOCore

extension TCPEndpoint {
    /// The endpoint of an IP `SocketAddress` (nil for a Unix socket), read from the C `sockaddr` NIO
    /// keeps: Linux's `sockaddr_in` has the IPv4 address at bytes 4..<8, `sockaddr_in6` the IPv6
    /// address at 8..<24, both in network order.
    init?(_ address: SocketAddress) {
        let range: Range<Int>
        switch address {
        case .v4: range = 4..<8
        case .v6: range = 8..<24
        case .unixDomainSocket: return nil
        }
        let bytes = address.withSockAddr { pointer, length -> [UInt8]? in
            guard length >= range.upperBound else { return nil }
            return Array(UnsafeRawBufferPointer(start: pointer, count: length)[range])
        }
        guard let bytes, let port = address.port else { return nil }
        self.init(bytes: bytes, port: port)
    }
}

enum ProcessIdentity {
    /// cpsd's own uid: the only owner whose sockets the bridge serves.
    static var userID: UInt32 { getuid() }
}
