import Glibc
import PKCS11

/// Unix-socket system calls for the PKCS#11 server: the listener, SO_PEERCRED, shutdown.
enum UnixSocket {
    /// `struct ucred` is hidden behind _GNU_SOURCE in Swift's Glibc module (p11-kit-rpc.md §3 pitfall 6):
    /// a layout-identical declaration.
    struct UCred {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
    }

    /// Creates, binds (mode 0600) and listens on `path`. A stale socket file is removed only if
    /// nothing answers on it; a live one means another server runs: `.addressInUse`.
    static func listen(path: String, backlog: Int32 = 16) throws(PKCS11SocketServerError) -> Int32 {
        var address = try socketAddress(path)
        if access(path, F_OK) == 0 {
            if answers(&address) { throw PKCS11SocketServerError(.addressInUse, "a server answers on \(path)") }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PKCS11SocketServerError(.socketFailed, "socket", errno: errno) }
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        umask(previous)
        guard bound == 0, chmod(path, 0o600) == 0, Glibc.listen(fd, backlog) == 0 else {
            let error = errno
            close(fd)
            throw PKCS11SocketServerError(.socketFailed, "bind/listen on \(path)", errno: error)
        }
        return fd
    }

    enum Accepted {
        case client(Int32)
        /// accept(2) failed with this errno (EINTR and ECONNABORTED are retried here, never returned).
        case failed(Int32)
    }

    /// accept(2) with CLOEXEC set and a blocking fd (p11-kit's serve loop spins on EAGAIN).
    static func accept(_ listener: Int32) -> Accepted {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let flags = fcntl(fd, F_GETFL)
                if flags & O_NONBLOCK != 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
                return .client(fd)
            }
            let code = errno
            if code == EINTR || code == ECONNABORTED { continue }
            return .failed(code)
        }
    }

    /// "EMFILE (Too many open files)", for log lines.
    static func describe(errno code: Int32) -> String {
        let names: [Int32: String] = [EMFILE: "EMFILE", ENFILE: "ENFILE", ENOBUFS: "ENOBUFS", ENOMEM: "ENOMEM"]
        return "\(names[code] ?? "errno \(code)") (\(String(cString: strerror(code))))"
    }

    /// SO_PEERCRED, and the executable from /proc/<pid>/exe.
    static func peer(_ fd: Int32) -> PeerInfo? {
        var credentials = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/\(credentials.pid)/exe", &buffer, buffer.count - 1)
        let executable =
            count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        return PeerInfo(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, executable: executable)
    }

    /// Blocks SIGPIPE on the calling (connection) thread: a write to a client that went away then fails
    /// with EPIPE instead of killing the process, and no signal handler is installed (STYLE.md rule 8).
    static func blockSIGPIPEOnThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    static func shutdownBoth(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    static func close(_ fd: Int32) { _ = Glibc.close(fd) }
    static func currentUID() -> UInt32 { getuid() }
    static func remove(_ path: String) { _ = unlink(path) }

    private static func socketAddress(_ path: String) throws(PKCS11SocketServerError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw PKCS11SocketServerError(.pathTooLong, "socket path of \(bytes.count) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return address
    }

    private static func answers(_ address: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { Glibc.close(probe) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        } == 0
    }
}
