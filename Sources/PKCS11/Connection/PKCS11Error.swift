package import PKCS11Constants

/// A PKCS#11 call failed: the CKR the C layer returns, and why (never a PIN).
/// Equality compares the return value only (STYLE.md rule 3).
package struct PKCS11Error: Error, Hashable, Sendable, CustomStringConvertible {
    package let rv: CKR
    package let reason: String

    package init(_ rv: CKR, _ reason: String = "") {
        self.rv = rv
        self.reason = reason
    }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.rv == rhs.rv }
    package func hash(into hasher: inout Hasher) { hasher.combine(rv) }
    package var description: String { reason.isEmpty ? rv.description : "\(rv): \(reason)" }
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
