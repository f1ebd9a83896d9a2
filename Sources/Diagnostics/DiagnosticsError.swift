/// A diagnostic or browser-setup step that could not be carried out; `reason` says what to do.
package struct DiagnosticsError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: Hashable, Sendable {
        /// A helper program (modutil, certutil, tar) is missing or failed.
        case toolFailed
        /// The bridge's local CA could not be loaded or made.
        case localCA
    }

    package var code: Code
    package var reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
