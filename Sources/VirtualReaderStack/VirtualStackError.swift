import ErrorShape
import SmartCardCore

/// Why a virtual reader stack could not start or be driven.
package struct VirtualStackError: CodedError {
    /// What went wrong, grouped by what the caller can do about it.
    package enum Code: String, ErrorCode {
        /// The stack directory or its files could not be written (fatal for this directory).
        case filesystem
        /// No free pair of TCP ports was found for the vpcd readers (retriable).
        case noFreePorts
        /// pcscd or its wrapper could not be spawned, or exited before it was ready (see the log tail).
        case pcscdFailed
        /// pcscd did not create its socket in time (retriable).
        case pcscdTimeout
        /// No private mount namespace here and another pcscd already owns the standard socket.
        case isolationUnavailable
        /// A card was not powered by its reader in time.
        case cardNotPowered
        /// The stack is not in a state that allows the call (e.g. started twice).
        case invalidState
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

    package var description: String { "VirtualStackError.\(code): \(reason)" }
}
