/// A failure of the PKCS#11 client: the module could not be loaded, or a call returned a CKR.
struct PKCS11ClientError: Error, CustomStringConvertible, Equatable {
    enum Code: Equatable {
        /// dlopen of p11-kit-client.so failed (not installed: package p11-kit-modules).
        case moduleNotLoaded(String)
        /// The module has no C_GetFunctionList, or it returned no list.
        case noFunctionList
        /// `function` returned `rv`.
        case call(function: String, rv: UInt)
    }

    let code: Code

    init(_ code: Code) { self.code = code }

    /// The CKR a call returned, if that is what failed.
    var rv: UInt? {
        if case .call(_, let rv) = code { return rv }
        return nil
    }

    var description: String {
        switch code {
        case .moduleNotLoaded(let reason): "cannot load p11-kit-client.so: \(reason)"
        case .noFunctionList: "p11-kit-client.so offers no PKCS#11 function list"
        case .call(let function, let rv): "\(function) failed: \(CKRName.name(rv))"
        }
    }
}

/// The CKR values cpsctl reacts to, by name (PKCS#11 2.40 §5.1).
enum CKRName {
    static let ok: UInt = 0x000
    static let functionFailed: UInt = 0x006
    static let dataLenRange: UInt = 0x021
    static let deviceError: UInt = 0x030
    static let deviceRemoved: UInt = 0x032
    static let keyTypeInconsistent: UInt = 0x063
    static let mechanismInvalid: UInt = 0x070
    static let pinIncorrect: UInt = 0x0A0
    static let pinInvalid: UInt = 0x0A1
    static let pinLenRange: UInt = 0x0A2
    static let pinLocked: UInt = 0x0A4
    static let sessionHandleInvalid: UInt = 0x0B3
    static let tokenNotPresent: UInt = 0x0E0
    static let userAlreadyLoggedIn: UInt = 0x100
    static let userNotLoggedIn: UInt = 0x101
    static let bufferTooSmall: UInt = 0x150
    static let cryptokiAlreadyInitialized: UInt = 0x191

    private static let names: [UInt: String] = [
        ok: "CKR_OK", 0x005: "CKR_GENERAL_ERROR", functionFailed: "CKR_FUNCTION_FAILED",
        0x007: "CKR_ARGUMENTS_BAD", dataLenRange: "CKR_DATA_LEN_RANGE", deviceError: "CKR_DEVICE_ERROR",
        deviceRemoved: "CKR_DEVICE_REMOVED", keyTypeInconsistent: "CKR_KEY_TYPE_INCONSISTENT",
        mechanismInvalid: "CKR_MECHANISM_INVALID", pinIncorrect: "CKR_PIN_INCORRECT", pinInvalid: "CKR_PIN_INVALID",
        pinLenRange: "CKR_PIN_LEN_RANGE", pinLocked: "CKR_PIN_LOCKED", sessionHandleInvalid: "CKR_SESSION_HANDLE_INVALID",
        tokenNotPresent: "CKR_TOKEN_NOT_PRESENT", userAlreadyLoggedIn: "CKR_USER_ALREADY_LOGGED_IN",
        userNotLoggedIn: "CKR_USER_NOT_LOGGED_IN", bufferTooSmall: "CKR_BUFFER_TOO_SMALL",
        cryptokiAlreadyInitialized: "CKR_CRYPTOKI_ALREADY_INITIALIZED", 0x054: "CKR_FUNCTION_NOT_SUPPORTED",
        0x0B5: "CKR_SESSION_READ_ONLY", 0x003: "CKR_SLOT_ID_INVALID", 0x190: "CKR_CRYPTOKI_NOT_INITIALIZED",
    ]

    static func name(_ rv: UInt) -> String {
        let hex = "0x" + String(rv, radix: 16, uppercase: true)
        return names[rv].map { "\($0) (\(hex))" } ?? "CKR \(hex)"
    }
}
