import ErrorShape
package import SmartCardCore

/// Why a token operation failed, in the terms PKCS#11 reports (each maps to exactly one CKR).
package struct TokenError: CodedError {
    package enum Code: String, ErrorCode {
        /// CKR_PIN_INCORRECT; `triesLeft` says how many remain.
        case pinIncorrect
        /// CKR_DATA_INVALID: data of a length the mechanism takes, but not of its form (refused before the card).
        case dataInvalid
        /// CKR_PIN_LOCKED.
        case pinLocked
        /// CKR_PIN_LEN_RANGE (refused before the card saw it).
        case pinLengthRange
        /// CKR_PIN_INVALID (non-digits; refused before the card saw it).
        case pinInvalid
        /// CKR_USER_NOT_LOGGED_IN (the card answered 6982).
        case notLoggedIn
        /// CKR_TOKEN_NOT_PRESENT.
        case tokenNotPresent
        /// CKR_DEVICE_REMOVED: the card of this generation was pulled.
        case deviceRemoved
        /// CKR_SLOT_ID_INVALID.
        case slotInvalid
        /// CKR_DATA_LEN_RANGE.
        case dataLengthRange
        /// CKR_KEY_TYPE_INCONSISTENT / CKR_MECHANISM_INVALID for a key that cannot do it.
        case mechanismInvalid
        /// CKR_ENCRYPTED_DATA_INVALID: the cryptogram does not decrypt to a well-padded message.
        case encryptedDataInvalid
        /// CKR_DEVICE_ERROR: the reader, pcscd or the card failed.
        case deviceError
        /// CKR_FUNCTION_FAILED.
        case functionFailed
        /// CKR_FUNCTION_CANCELED: the person cancelled the PIN entry on the reader (or typed nothing in time).
        case cancelled
    }

    package let code: Code
    package let reason: String
    package let triesLeft: Int?

    package init(_ code: Code, _ reason: String, triesLeft: Int? = nil) {
        self.code = code
        self.reason = reason
        self.triesLeft = triesLeft
    }

}
