import ErrorShape
package import SmartCardCore

/// What went wrong talking to a CPx card (CPS3 or CPS4), grouped like `CardError` (STYLE.md rule 3). Status words become
/// codes here, once; 63Cx becomes `.wrongPIN` with `triesLeft`.
package struct IASECCError: CodedError, CardErrorCarrier {
    package enum Code: String, ErrorCode {
        /// Wrong PIN or PUK; `triesLeft` says how many remain.
        case wrongPIN = "wrong PIN"
        /// The PIN (or PUK) is blocked (6983).
        case blocked = "blocked"
        /// No unblock left: the card can no longer be unblocked.
        case noUnblocksLeft = "no unblocks left"
        /// The operation needs the PIN verified first (6982).
        case pinRequired = "PIN not verified"
        /// A PIN or PUK of the wrong length or with non-digits, refused before the card saw it.
        case invalidPINFormat = "invalid PIN format"
        /// The person cancelled the PIN entry on the reader's keypad, or typed nothing in time.
        case pinEntryCancelled = "PIN entry cancelled"
        /// Input longer than the card accepts, refused before the card saw it.
        case inputTooLong = "input too long"
        /// The input has a length the operation takes but is not what it must be (a digest or DigestInfo).
        case inputInvalid = "input invalid"
        /// Not a CPx card cpsd drives (the application is missing or the ATR is foreign).
        case notCPS3 = "not a supported CPx card"
        /// The key cannot do this mechanism on this card generation, refused before the card saw it.
        case mechanismNotSupported = "mechanism not supported"
        /// A decrypted block that is not a well-formed PKCS#1 v1.5 type-2 block (or a card that said so).
        case encryptedDataInvalid = "encrypted data invalid"
        case fileNotFound = "file not found"
        /// The card's wrong-sequence answer (6985) persisted after reselecting the application.
        case conditionsNotSatisfied = "conditions of use not satisfied"
        /// The card lost its application context (another stack, a reset) and the verification with it.
        case contextLost = "card context lost"
        /// A status word the operation does not expect.
        case unexpectedStatus = "unexpected status word"
        /// Card data (PKCS#15, DOCP, certificate) that does not parse.
        case malformedCardData = "malformed card data"
        /// The reader or PC/SC failed; `cardError` has the details.
        case transport = "card transport"

        package var group: CardError.Group {
            switch self {
            case .wrongPIN, .blocked, .noUnblocksLeft, .pinRequired, .invalidPINFormat, .pinEntryCancelled, .inputTooLong,
                .inputInvalid, .notCPS3, .mechanismNotSupported, .encryptedDataInvalid:
                .user
            case .fileNotFound, .unexpectedStatus, .malformedCardData: .fatal
            case .conditionsNotSatisfied, .contextLost, .transport: .retriable
            }
        }
    }

    package let code: Code
    package let reason: String
    package let triesLeft: Int?
    package let statusWord: StatusWord?
    package let cardError: CardError?
    package let file: String
    package let line: Int

    package init(
        _ code: Code, _ reason: String, triesLeft: Int? = nil, statusWord: StatusWord? = nil,
        cardError: CardError? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.reason = reason
        self.triesLeft = triesLeft
        self.statusWord = statusWord
        self.cardError = cardError
        self.file = file
        self.line = line
    }

    /// A transport failure, as the driver chain throws it: `.transport`, with the `CardError`.
    package init(_ error: CardError) {
        self.init(.transport, error.description, cardError: error, file: error.file, line: error.line)
    }

    package var description: String {
        var text = "\(code): \(reason)"
        if let triesLeft { text += " (\(triesLeft) tries left)" }
        return text
    }

    /// Maps a status word to the error it means for `operation`; nil for 9000.
    package static func check(_ sw: StatusWord, _ operation: String) -> IASECCError? {
        if sw.isSuccess { return nil }
        if let tries = sw.triesLeft {
            return tries == 0
                ? IASECCError(.blocked, "\(operation): no tries left", triesLeft: 0, statusWord: sw)
                : IASECCError(.wrongPIN, "\(operation) refused", triesLeft: tries, statusWord: sw)
        }
        switch sw {
        case .authenticationMethodBlocked:
            return IASECCError(.blocked, "\(operation): blocked (6983)", triesLeft: 0, statusWord: sw)
        case .securityStatusNotSatisfied:
            return IASECCError(.pinRequired, "\(operation): security status not satisfied (6982)", statusWord: sw)
        case .fileNotFound:
            return IASECCError(.fileNotFound, "\(operation): not found (6A82)", statusWord: sw)
        case .conditionsOfUseNotSatisfied:
            return IASECCError(.conditionsNotSatisfied, "\(operation): conditions of use not satisfied (6985)", statusWord: sw)
        default:
            return IASECCError(.unexpectedStatus, "\(operation) answered \(sw)", statusWord: sw)
        }
    }
}
