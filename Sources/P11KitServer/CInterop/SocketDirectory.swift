import ErrorShape
import Glibc
import SmartCardCore

/// The directory holding cpsd's socket must be the user's own: a real directory (lstat, so a symlink
/// is seen as one, not followed), owned by this uid, with no access for group or others (0700).
/// Otherwise someone else could replace the socket, or the lock next to it, with their own, and
/// clients would hand PINs to a stranger's process.
package enum SocketDirectory {
    /// The directory part of `socketPath` ("." for a bare name).
    package static func directory(of socketPath: String) -> String {
        var path = socketPath
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Throws, naming the directory and what is wrong with it, unless it is safe to serve from.
    package static func check(socketPath: String) throws(SocketDirectoryError) {
        let directory = directory(of: socketPath)
        var status = stat()
        guard lstat(directory, &status) == 0 else {
            throw SocketDirectoryError(.unreadable, directory: directory, detail: .errno(errno))
        }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFLNK { throw SocketDirectoryError(.symbolicLink, directory: directory) }
        guard kind == S_IFDIR else { throw SocketDirectoryError(.notADirectory, directory: directory) }
        guard status.st_uid == getuid() else {
            throw SocketDirectoryError(
                .ownedByAnother, directory: directory, detail: .owner(status.st_uid, user: getuid()))
        }
        let permissions = status.st_mode & 0o7777
        guard permissions & 0o077 == 0 else {
            throw SocketDirectoryError(.openToOthers, directory: directory, detail: .mode(UInt32(permissions)))
        }
    }
}

/// What is wrong with the socket's directory.
package struct SocketDirectoryError: CodedError {
    package enum Code: String, ErrorCode {
        /// lstat failed (`errno`).
        case unreadable
        case symbolicLink
        case notADirectory
        /// Not the user's (`owner`, `user`).
        case ownedByAnother
        /// Group or others have access (`mode`).
        case openToOthers
    }

    /// What the check found beside the code, for the message.
    package enum Detail: Sendable, Equatable {
        case none
        case errno(Int32)
        case owner(UInt32, user: UInt32)
        case mode(UInt32)
    }

    package let code: Code
    package let directory: String
    package let detail: Detail

    package init(_ code: Code, directory: String, detail: Detail = .none) {
        self.code = code
        self.directory = directory
        self.detail = detail
    }

    package var reason: String {
        let what = "the socket's directory \(directory)"
        return switch (code, detail) {
        case (.unreadable, .errno(let code)): "\(what) cannot be examined: \(String(cString: strerror(code)))"
        case (.unreadable, _): "\(what) cannot be examined"
        case (.symbolicLink, _): "\(what) is a symbolic link; it must be a real directory of yours, mode 0700"
        case (.notADirectory, _): "\(what) is not a directory"
        case (.ownedByAnother, .owner(let owner, let user)):
            "\(what) is owned by uid \(owner), not by you (uid \(user)); it must be yours, mode 0700"
        case (.ownedByAnother, _): "\(what) is not yours; it must be yours, mode 0700"
        case (.openToOthers, .mode(let mode)):
            "\(what) has mode 0\(String(mode, radix: 8)); it must be 0700 (chmod 700 \(directory))"
        case (.openToOthers, _): "\(what) is open to others; it must be 0700 (chmod 700 \(directory))"
        }
    }

    package var description: String { reason }
}
