import ErrorShape
package import PKCS11Constants
import SmartCardCore

/// A PKCS#11 call failed: the CKR the C layer returns as its code, and why (never a PIN).
/// Equality compares the return value only (`CodedError`). `CKR` is a struct like `PCSCError.Code`: the C
/// layer's values are an open set.
package struct PKCS11Error: CodedError {
    package let code: CKR
    package let reason: String

    package init(_ code: CKR, _ reason: String = "") {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason.isEmpty ? code.description : "\(code): \(reason)" }
}

extension PKCS11Error {
    /// The one place a token failure becomes a CKR.
    init(_ error: TokenError) {
        let rv: CKR =
            switch error.code {
            case .pinIncorrect: .pinIncorrect
            case .pinLocked: .pinLocked
            case .pinLengthRange: .pinLenRange
            case .pinInvalid: .pinInvalid
            case .notLoggedIn: .userNotLoggedIn
            case .tokenNotPresent: .tokenNotPresent
            case .deviceRemoved: .deviceRemoved
            case .slotInvalid: .slotIDInvalid
            case .dataLengthRange: .dataLenRange
            case .dataInvalid: .dataInvalid
            case .cancelled: .functionCanceled
            case .mechanismInvalid: .keyTypeInconsistent
            case .encryptedDataInvalid: .encryptedDataInvalid
            case .deviceError: .deviceError
            case .functionFailed: .functionFailed
            }
        self.init(rv, error.description)
    }
}
