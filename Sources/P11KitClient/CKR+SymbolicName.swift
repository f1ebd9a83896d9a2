package import PKCS11Constants

extension CKR {
    /// The names of the CKR values cpsctl may meet (PKCS#11 2.40 §5.1), for messages people read.
    private static let symbolicNames: [CKR: String] = [
        .ok: "CKR_OK", .generalError: "CKR_GENERAL_ERROR", .functionFailed: "CKR_FUNCTION_FAILED",
        .argumentsBad: "CKR_ARGUMENTS_BAD", .dataLenRange: "CKR_DATA_LEN_RANGE", .deviceError: "CKR_DEVICE_ERROR",
        .deviceRemoved: "CKR_DEVICE_REMOVED", .keyTypeInconsistent: "CKR_KEY_TYPE_INCONSISTENT",
        .mechanismInvalid: "CKR_MECHANISM_INVALID", .pinIncorrect: "CKR_PIN_INCORRECT", .pinInvalid: "CKR_PIN_INVALID",
        .pinLenRange: "CKR_PIN_LEN_RANGE", .pinLocked: "CKR_PIN_LOCKED", .sessionHandleInvalid: "CKR_SESSION_HANDLE_INVALID",
        .tokenNotPresent: "CKR_TOKEN_NOT_PRESENT", .userAlreadyLoggedIn: "CKR_USER_ALREADY_LOGGED_IN",
        .userNotLoggedIn: "CKR_USER_NOT_LOGGED_IN", .bufferTooSmall: "CKR_BUFFER_TOO_SMALL",
        .cryptokiAlreadyInitialized: "CKR_CRYPTOKI_ALREADY_INITIALIZED", .functionNotSupported: "CKR_FUNCTION_NOT_SUPPORTED",
        .sessionReadOnly: "CKR_SESSION_READ_ONLY", .slotIDInvalid: "CKR_SLOT_ID_INVALID",
        .cryptokiNotInitialized: "CKR_CRYPTOKI_NOT_INITIALIZED",
    ]

    /// "CKR_PIN_INCORRECT (0xA0)", or "CKR 0x…" for a value without a name here.
    package var symbolicName: String {
        let hex = "0x" + String(rawValue, radix: 16, uppercase: true)
        return Self.symbolicNames[self].map { "\($0) (\(hex))" } ?? "CKR \(hex)"
    }
}
