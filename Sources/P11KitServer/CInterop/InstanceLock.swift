import Glibc

/// One cpsd per socket: an exclusive flock(2) on `<socket>.lock`, next to the socket, holding the pid of
/// the daemon that has it. Taken before the socket path is touched, so a second cpsd never removes or
/// replaces the first one's socket; the kernel drops the lock when its holder exits, however it exits,
/// so a crashed cpsd leaves no stale lock behind. The file itself stays (removing it would let two
/// daemons lock two different files of the same name).
package final class InstanceLock: Sendable {
    package let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Where the lock for `socketPath` lives.
    package static func path(forSocket socketPath: String) -> String { socketPath + ".lock" }

    /// Takes the lock for `socketPath` without waiting and writes this process's pid in it. The
    /// descriptor is close-on-exec: children (pinentry) never hold the lock.
    package static func acquire(socketPath: String) throws(InstanceLockError) -> InstanceLock {
        let path = path(forSocket: socketPath)
        // O_NOFOLLOW: a symlink planted at the lock's name is refused, never followed.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw InstanceLockError(.cannotOpen(errno: errno), path: path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = readPID(descriptor)
            close(descriptor)
            if code == EWOULDBLOCK { throw InstanceLockError(.heldByAnother(pid: holder), path: path) }
            throw InstanceLockError(.cannotOpen(errno: code), path: path)
        }
        let text = Array("\(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, text, text.count, 0) == text.count else {
            let code = errno
            close(descriptor)
            throw InstanceLockError(.cannotOpen(errno: code), path: path)
        }
        return InstanceLock(path: path, descriptor: descriptor)
    }

    /// The pid the holder wrote, if it has written one yet.
    private static func readPID(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let digits = buffer[0..<count].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}

/// Why the instance lock was not taken.
package struct InstanceLockError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: Sendable, Equatable {
        /// Another process holds it: another cpsd serves this socket (its pid, when it wrote one).
        case heldByAnother(pid: Int32?)
        /// The lock file could not be opened, locked or written.
        case cannotOpen(errno: Int32)
    }

    package let code: Code
    package let path: String

    package init(_ code: Code, path: String) {
        self.code = code
        self.path = path
    }

    package var description: String {
        switch code {
        case .heldByAnother(let pid?): "another cpsd (pid \(pid)) already serves this socket; it holds \(path)"
        case .heldByAnother(nil): "another cpsd already serves this socket; it holds \(path)"
        case .cannotOpen(let code): "cannot lock \(path): \(String(cString: strerror(code)))"
        }
    }
}
