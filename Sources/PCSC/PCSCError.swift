import ErrorShape
package import SmartCardCore

/// A pcsc-lite return code other than success, with where it happened (STYLE.md rules 2 and 3).
///
/// Codes keep their PC/SC names and 32-bit values so logs can be matched against pcsc-lite's
/// documentation; `cardError` folds them into the groups callers act on.
/// Its `Code` is the one struct-shaped code of `CodedError`: pcscd may answer a value no list names.
package struct PCSCError: CodedError {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }

        package var name: String { Self.names[rawValue] ?? "SCARD_0x\(String(rawValue, radix: 16, uppercase: true))" }
        package var description: String { "\(name) (0x\(String(rawValue, radix: 16, uppercase: true)))" }
        package var isKnown: Bool { Self.names[rawValue] != nil }

        package static let internalError = Code(rawValue: 0x8010_0001)
        package static let cancelled = Code(rawValue: 0x8010_0002)
        package static let invalidHandle = Code(rawValue: 0x8010_0003)
        package static let invalidParameter = Code(rawValue: 0x8010_0004)
        package static let noMemory = Code(rawValue: 0x8010_0006)
        package static let insufficientBuffer = Code(rawValue: 0x8010_0008)
        package static let unknownReader = Code(rawValue: 0x8010_0009)
        package static let timeout = Code(rawValue: 0x8010_000A)
        package static let sharingViolation = Code(rawValue: 0x8010_000B)
        package static let noSmartcard = Code(rawValue: 0x8010_000C)
        package static let protocolMismatch = Code(rawValue: 0x8010_000F)
        package static let notReady = Code(rawValue: 0x8010_0010)
        package static let invalidValue = Code(rawValue: 0x8010_0011)
        package static let systemCancelled = Code(rawValue: 0x8010_0012)
        package static let commError = Code(rawValue: 0x8010_0013)
        package static let unknownError = Code(rawValue: 0x8010_0014)
        package static let invalidATR = Code(rawValue: 0x8010_0015)
        package static let notTransacted = Code(rawValue: 0x8010_0016)
        package static let readerUnavailable = Code(rawValue: 0x8010_0017)
        package static let shutdown = Code(rawValue: 0x8010_0018)
        package static let noService = Code(rawValue: 0x8010_001D)
        package static let serviceStopped = Code(rawValue: 0x8010_001E)
        package static let unsupportedFeature = Code(rawValue: 0x8010_001F)
        package static let noAccess = Code(rawValue: 0x8010_0027)
        package static let noReadersAvailable = Code(rawValue: 0x8010_002E)
        package static let commDataLost = Code(rawValue: 0x8010_002F)
        package static let serverTooBusy = Code(rawValue: 0x8010_0031)
        package static let unsupportedCard = Code(rawValue: 0x8010_0065)
        package static let unresponsiveCard = Code(rawValue: 0x8010_0066)
        package static let unpoweredCard = Code(rawValue: 0x8010_0067)
        package static let resetCard = Code(rawValue: 0x8010_0068)
        package static let removedCard = Code(rawValue: 0x8010_0069)
        /// What pcsc-lite answers when polkit refuses a client: SCardEstablishContext gets it when pcscd
        /// closes the connection unread (org.debian.pcsc-lite.access_pcsc), SCardConnect when the reader
        /// is refused (access_card).
        package static let securityViolation = Code(rawValue: 0x8010_006A)

        private static let names: [UInt32: String] = [
            0x8010_0001: "SCARD_F_INTERNAL_ERROR", 0x8010_0002: "SCARD_E_CANCELLED",
            0x8010_0003: "SCARD_E_INVALID_HANDLE", 0x8010_0004: "SCARD_E_INVALID_PARAMETER",
            0x8010_0005: "SCARD_E_INVALID_TARGET", 0x8010_0006: "SCARD_E_NO_MEMORY",
            0x8010_0007: "SCARD_F_WAITED_TOO_LONG", 0x8010_0008: "SCARD_E_INSUFFICIENT_BUFFER",
            0x8010_0009: "SCARD_E_UNKNOWN_READER", 0x8010_000A: "SCARD_E_TIMEOUT",
            0x8010_000B: "SCARD_E_SHARING_VIOLATION", 0x8010_000C: "SCARD_E_NO_SMARTCARD",
            0x8010_000D: "SCARD_E_UNKNOWN_CARD", 0x8010_000E: "SCARD_E_CANT_DISPOSE",
            0x8010_000F: "SCARD_E_PROTO_MISMATCH", 0x8010_0010: "SCARD_E_NOT_READY",
            0x8010_0011: "SCARD_E_INVALID_VALUE", 0x8010_0012: "SCARD_E_SYSTEM_CANCELLED",
            0x8010_0013: "SCARD_F_COMM_ERROR", 0x8010_0014: "SCARD_F_UNKNOWN_ERROR",
            0x8010_0015: "SCARD_E_INVALID_ATR", 0x8010_0016: "SCARD_E_NOT_TRANSACTED",
            0x8010_0017: "SCARD_E_READER_UNAVAILABLE", 0x8010_0018: "SCARD_P_SHUTDOWN",
            0x8010_0019: "SCARD_E_PCI_TOO_SMALL", 0x8010_001A: "SCARD_E_READER_UNSUPPORTED",
            0x8010_001B: "SCARD_E_DUPLICATE_READER", 0x8010_001C: "SCARD_E_CARD_UNSUPPORTED",
            0x8010_001D: "SCARD_E_NO_SERVICE", 0x8010_001E: "SCARD_E_SERVICE_STOPPED",
            0x8010_001F: "SCARD_E_UNSUPPORTED_FEATURE", 0x8010_0020: "SCARD_E_ICC_INSTALLATION",
            0x8010_0021: "SCARD_E_ICC_CREATEORDER", 0x8010_0023: "SCARD_E_DIR_NOT_FOUND",
            0x8010_0024: "SCARD_E_FILE_NOT_FOUND", 0x8010_0025: "SCARD_E_NO_DIR",
            0x8010_0026: "SCARD_E_NO_FILE", 0x8010_0027: "SCARD_E_NO_ACCESS",
            0x8010_0028: "SCARD_E_WRITE_TOO_MANY", 0x8010_0029: "SCARD_E_BAD_SEEK",
            0x8010_002A: "SCARD_E_INVALID_CHV", 0x8010_002B: "SCARD_E_UNKNOWN_RES_MNG",
            0x8010_002C: "SCARD_E_NO_SUCH_CERTIFICATE", 0x8010_002D: "SCARD_E_CERTIFICATE_UNAVAILABLE",
            0x8010_002E: "SCARD_E_NO_READERS_AVAILABLE", 0x8010_002F: "SCARD_E_COMM_DATA_LOST",
            0x8010_0030: "SCARD_E_NO_KEY_CONTAINER", 0x8010_0031: "SCARD_E_SERVER_TOO_BUSY",
            0x8010_0065: "SCARD_W_UNSUPPORTED_CARD", 0x8010_0066: "SCARD_W_UNRESPONSIVE_CARD",
            0x8010_0067: "SCARD_W_UNPOWERED_CARD", 0x8010_0068: "SCARD_W_RESET_CARD",
            0x8010_0069: "SCARD_W_REMOVED_CARD", 0x8010_006A: "SCARD_W_SECURITY_VIOLATION",
            0x8010_006B: "SCARD_W_WRONG_CHV", 0x8010_006C: "SCARD_W_CHV_BLOCKED",
            0x8010_006D: "SCARD_W_EOF", 0x8010_006E: "SCARD_W_CANCELLED_BY_USER",
            0x8010_006F: "SCARD_W_CARD_NOT_AUTHENTICATED",
        ]
    }

    package let code: Code
    /// The PC/SC function that returned the code, e.g. "SCardTransmit".
    package let function: String
    package let file: String
    package let line: Int

    package init(code: Code, function: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.function = function
        self.file = file
        self.line = line
    }

    package var reason: String { "\(function) failed" }
    package var description: String { "\(reason): \(code)" }

    /// The same failure in the vocabulary code above PC/SC speaks.
    package var cardError: CardError {
        let group: CardError.Code
        switch code {
        case .removedCard, .notTransacted: group = .cardRemoved
        case .resetCard: group = .cardReset
        case .noSmartcard, .unpoweredCard: group = .noCard
        case .unresponsiveCard, .unsupportedCard, .invalidATR: group = .cardUnresponsive
        case .unknownReader, .readerUnavailable: group = .unknownReader
        case .noReadersAvailable: group = .noReaders
        case .noService, .serviceStopped, .shutdown, .invalidHandle: group = .serviceUnavailable
        case .sharingViolation: group = .sharingViolation
        case .timeout: group = .timeout
        case .cancelled, .systemCancelled: group = .cancelled
        case .noAccess, .securityViolation: group = .accessDenied
        case .protocolMismatch: group = .protocolMismatch
        case .commError, .commDataLost, .notReady: group = .transmitFailed
        default: group = .internalError
        }
        return CardError(group, description, file: file, line: line)
    }
}
