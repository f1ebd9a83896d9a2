import ErrorShape
import Glibc
import SmartCardCore

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
        guard descriptor >= 0 else { throw InstanceLockError(.cannotOpen, path: path, errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = readPID(descriptor)
            close(descriptor)
            if code == EWOULDBLOCK { throw InstanceLockError(.heldByAnother, path: path, pid: holder) }
            throw InstanceLockError(.cannotOpen, path: path, errno: code)
        }
        let text = Array("\(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, text, text.count, 0) == text.count else {
            let code = errno
            close(descriptor)
            throw InstanceLockError(.cannotOpen, path: path, errno: code)
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
package struct InstanceLockError: CodedError {
    package enum Code: String, ErrorCode {
        /// Another process holds it: another cpsd serves this socket (`pid`, when it wrote one).
        case heldByAnother
        /// The lock file could not be opened, locked or written (`errno`).
        case cannotOpen
    }

    package let code: Code
    package let path: String
    /// The holder's pid, as it wrote it in the file (`.heldByAnother`).
    package let pid: Int32?
    /// Why open, flock or write failed (`.cannotOpen`).
    package let errno: Int32?

    package init(_ code: Code, path: String, pid: Int32? = nil, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.pid = pid
        self.errno = errno
    }

    package var reason: String {
        switch code {
        case .heldByAnother:
            if let pid { "another cpsd (pid \(pid)) already serves this socket; it holds \(path)" }
            else { "another cpsd already serves this socket; it holds \(path)" }
        case .cannotOpen: "cannot lock \(path): \(String(cString: strerror(errno ?? 0)))"
        }
    }

    package var description: String { reason }
}
