import IASECC
import PKCS11
import SmartCardCore

extension CardTokenDriver {
    /// One card transaction for a token of `generation`; card errors become `TokenError` here, once.
    /// PIN operations read the counters again afterwards (the token flags follow them).
    func cardOperation<R>(
        _ slot: SlotID, _ generation: UInt64, keepingStateOf client: ClientID?, refreshCounters: Bool,
        _ body: (inout CardSession) throws -> R
    ) throws(TokenError) -> R {
        do {
            return try lockedOperation(
                slot, generation, keepingStateOf: client, refreshCounters: refreshCounters, body)
        } catch let error as TokenError {
            throw error
        } catch {
            throw Self.tokenError(error)
        }
    }

    static func tokenError(_ error: any Error) -> TokenError {
        guard let error = error as? IASECCError else { return TokenError(.deviceError, "\(error)") }
        switch error.code {
        case .wrongPIN: return TokenError(.pinIncorrect, error.reason, triesLeft: error.triesLeft)
        case .blocked, .noUnblocksLeft: return TokenError(.pinLocked, error.reason, triesLeft: 0)
        case .invalidPINFormat: return TokenError(.pinLengthRange, error.reason)
        case .pinRequired: return TokenError(.notLoggedIn, error.reason)
        case .inputTooLong: return TokenError(.dataLengthRange, error.reason)
        case .mechanismNotSupported: return TokenError(.mechanismInvalid, error.reason)
        case .encryptedDataInvalid: return TokenError(.encryptedDataInvalid, error.reason)
        default: return TokenError(.deviceError, error.description)
        }
    }

    func checkFormat(_ secret: borrowing SecretBytes, length: Int) throws(TokenError) {
        guard secret.count == length else { throw TokenError(.pinLengthRange, "must be \(length) digits") }
        guard secret.isAllDigits else { throw TokenError(.pinInvalid, "digits only") }
    }
}
