import ErrorShape
/// The pairing file could not be written (reading never fails: an unreadable file holds no pairing).
package struct PairingFileError: CodedError {
    package enum Code: String, ErrorCode {
        /// The directory, the temporary file or the rename failed.
        case notWritten = "not written"
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
