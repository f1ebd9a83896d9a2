import Glibc

/// Whether something accepts connections on a Unix socket path: how cpsctl tells a running cpsd from a
/// missing one or a stale socket file left by a dead one (connect fails with ENOENT or ECONNREFUSED).
package enum UnixSocketProbe {
    /// This process's real user id (for p11-kit's `/run/user/<uid>` default).
    package static var userID: UInt32 { getuid() }

    /// Who serves a socket: the process that listens on it, as the kernel recorded it (SO_PEERCRED).
    package struct Server: Equatable {
        package let pid: Int32
        package let uid: UInt32

        package init(pid: Int32, uid: UInt32) {
            self.pid = pid
            self.uid = uid
        }
    }

    /// The pid of the process serving `path` (SO_PEERCRED on a connection to it), for `bench pkcs11`.
    package static func serverPID(_ path: String) -> Int32? { server(path)?.pid }

    /// The process serving `path`: SO_PEERCRED on a connection that is closed without a byte sent.
    package static func server(_ path: String) -> Server? {
        guard let descriptor = connected(path) else { return nil }
        defer { close(descriptor) }
        var credentials = (pid: pid_t(0), uid: uid_t(0), gid: gid_t(0))
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return Server(pid: credentials.pid, uid: credentials.uid)
    }

    /// A directory as lstat(2) sees it (a symlink is reported as one, not followed).
    package struct DirectoryStatus: Equatable {
        package let owner: UInt32
        package let mode: UInt32
        package let isSymbolicLink: Bool
        package let isDirectory: Bool
    }

    package static func directoryStatus(_ path: String) -> DirectoryStatus? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        let kind = status.st_mode & S_IFMT
        return DirectoryStatus(
            owner: status.st_uid, mode: UInt32(status.st_mode & 0o7777), isSymbolicLink: kind == S_IFLNK,
            isDirectory: kind == S_IFDIR)
    }

    package static func accepts(_ path: String) -> Bool {
        guard let descriptor = connected(path) else { return false }
        close(descriptor)
        return true
    }

    private static func connected(_ path: String) -> Int32? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
}
