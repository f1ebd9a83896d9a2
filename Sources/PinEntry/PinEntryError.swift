import ErrorShape
import SmartCardCore

/// Why a pinentry dialog gave no answer, grouped by what the caller does about it (STYLE.md rule 3).
///
/// Equality compares `code` only. The reason never holds anything the user typed.
package struct PinEntryError: CodedError {
    package enum Code: String, ErrorCode {
        /// The user cancelled the dialog, or the caller did (`PinEntryCancellation`).
        case cancelled
        /// Nobody answered in time: the dialog's own timeout, or our watchdog after it.
        case timedOut = "timed out"
        /// No pinentry program at the given path or on PATH.
        case programNotFound = "pinentry not found"
        /// The program started but failed: it exited, refused a command, or stopped answering.
        case programFailed = "pinentry failed"
        /// The program's output is not the Assuan protocol (or breaks its limits).
        case protocolError = "protocol error"
    }

    package let code: Code
    package let reason: String
    package let file: String
    package let line: Int

    package init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    /// The same error with more context appended (e.g. how the program exited).
    func adding(_ detail: String) -> PinEntryError {
        PinEntryError(code, "\(reason) (\(detail))", file: file, line: line)
    }
}
