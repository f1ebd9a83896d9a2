import ErrorShape
import IASECC
import PKCS11
import PKCS11Constants
import SmartCardCore

/// Where card and driver errors become PKCS#11 terms: once, here (STYLE.md rule 3).
enum TokenErrorMapping {
    static func map(_ error: IASECCError) -> TokenError {
        switch error.code {
        case .wrongPIN: TokenError(.pinIncorrect, error.reason, triesLeft: error.triesLeft)
        case .blocked, .noUnblocksLeft: TokenError(.pinLocked, error.reason, triesLeft: 0)
        case .invalidPINFormat: TokenError(.pinInvalid, error.reason)
        case .pinEntryCancelled: TokenError(.cancelled, error.reason)
        case .pinRequired: TokenError(.notLoggedIn, error.reason)
        case .inputTooLong: TokenError(.dataLengthRange, error.reason)
        case .inputInvalid: TokenError(.dataInvalid, error.reason)
        case .notCPS3: TokenError(.tokenNotPresent, error.reason)
        case .transport: error.cardError.map(map) ?? TokenError(.deviceError, error.reason)
        case .conditionsNotSatisfied, .contextLost: TokenError(.functionFailed, error.reason)
        case .mechanismNotSupported: TokenError(.mechanismInvalid, error.reason)
        case .encryptedDataInvalid: TokenError(.encryptedDataInvalid, error.reason)
        default: TokenError(.deviceError, error.description)
        }
    }

    static func map(_ error: CardError) -> TokenError {
        switch error.code {
        case .cardRemoved, .noCard, .unknownReader, .noReaders: TokenError(.deviceRemoved, error.description)
        default: TokenError(.deviceError, error.description)
        }
    }
}
