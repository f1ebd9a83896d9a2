import ErrorShape

/// A diagnostic or browser-setup step that could not be carried out; `reason` says what to do.
package struct DiagnosticsError: CodedError {
    package enum Code: String, ErrorCode {
        /// A helper program (modutil, certutil, tar) is missing or failed.
        case toolFailed = "tool failed"
        /// The bridge's local CA could not be loaded or made.
        case localCA = "local CA"
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
