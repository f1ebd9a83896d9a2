/// The pairing file could not be written (reading never fails: an unreadable file holds no pairing).
package struct PairingFileError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: Hashable, Sendable {
        /// The directory, the temporary file or the rename failed.
        case notWritten
    }

    package var code: Code
    package var reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
