/// Why a pinentry dialog gave no answer, grouped by what the caller does about it (STYLE.md rule 3).
///
/// Equality compares `code` only. The message never holds anything the user typed.
package struct PinEntryError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        /// The user cancelled the dialog, or the caller did (`PinEntryCancellation`).
        package static let cancelled = Code("cancelled")
        /// Nobody answered in time: the dialog's own timeout, or our watchdog after it.
        package static let timedOut = Code("timed out")
        /// No pinentry program at the given path or on PATH.
        package static let programNotFound = Code("pinentry not found")
        /// The program started but failed: it exited, refused a command, or stopped answering.
        package static let programFailed = Code("pinentry failed")
        /// The program's output is not the Assuan protocol (or breaks its limits).
        package static let protocolError = Code("protocol error")
    }

    package let code: Code
    package let message: String
    package let file: String
    package let line: Int

    package init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    package static func == (lhs: PinEntryError, rhs: PinEntryError) -> Bool { lhs.code == rhs.code }
    package func hash(into hasher: inout Hasher) { hasher.combine(code) }

    package var description: String { "\(code): \(message)" }

    /// The same error with more context appended (e.g. how the program exited).
    func adding(_ detail: String) -> PinEntryError {
        PinEntryError(code, "\(message) (\(detail))", file: file, line: line)
    }
}
