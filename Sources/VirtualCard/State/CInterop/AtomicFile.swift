import ErrorShape
import Foundation
import SmartCardCore
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file replacement with POSIX calls: the file is never seen half-written or with a wider mode.
enum AtomicFile {
    /// Writes `bytes` to a fresh temporary file created with `mode` (never wider, whatever the umask allows) and
    /// renames it over `target`.
    static func replace(_ bytes: [UInt8], at target: URL, mode: mode_t, temporaryDirectory directory: URL) throws(AtomicFileError) {
        let temporary = directory.appendingPathComponent(
            ".\(target.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw AtomicFileError(code: .replaceFailed, reason: "cannot create \(temporary): \(errnoText())")
        }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(temporary): \(errnoText())"
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(descriptor, mode) != 0 {
            failure = "cannot set the mode of \(temporary): \(errnoText())"
        }
        if close(descriptor) != 0, failure == nil {
            failure = "cannot close \(temporary): \(errnoText())"
        }
        if failure == nil, rename(temporary, target.path) != 0 {
            failure = "cannot rename \(temporary) to \(target.path): \(errnoText())"
        }
        if let failure {
            unlink(temporary)
            throw AtomicFileError(code: .replaceFailed, reason: failure)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The file could not be replaced; the reason names the step and errno's text.
struct AtomicFileError: CodedError {
    enum Code: String, ErrorCode {
        case replaceFailed = "replace failed"
    }

    let code: Code
    let reason: String
}
