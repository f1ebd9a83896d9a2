package import SmartCardCore

/// What went wrong talking to a CPx card (CPS3 or CPS4), grouped like `CardError` (STYLE.md rule 3). Status words become
/// codes here, once; 63Cx becomes `.wrongPIN` with `triesLeft`.
package struct IASECCError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        package let group: CardError.Group
        private init(_ rawValue: String, _ group: CardError.Group) {
            self.rawValue = rawValue
            self.group = group
        }
        package var description: String { rawValue }

        /// Wrong PIN or PUK; `triesLeft` says how many remain.
        package static let wrongPIN = Code("wrong PIN", .user)
        /// The PIN (or PUK) is blocked (6983).
        package static let blocked = Code("blocked", .user)
        /// No unblock left: the card can no longer be unblocked.
        package static let noUnblocksLeft = Code("no unblocks left", .user)
        /// The operation needs the PIN verified first (6982).
        package static let pinRequired = Code("PIN not verified", .user)
        /// A PIN or PUK of the wrong length or with non-digits, refused before the card saw it.
        package static let invalidPINFormat = Code("invalid PIN format", .user)
        /// The person cancelled the PIN entry on the reader's keypad, or typed nothing in time.
        package static let pinEntryCancelled = Code("PIN entry cancelled", .user)
        /// Input longer than the card accepts, refused before the card saw it.
        package static let inputTooLong = Code("input too long", .user)
        /// The input has a length the operation takes but is not what it must be (a digest or DigestInfo).
        package static let inputInvalid = Code("input invalid", .user)
        /// Not a CPx card cpsd drives (the application is missing or the ATR is foreign).
        package static let notCPS3 = Code("not a supported CPx card", .user)
        /// The key cannot do this mechanism on this card generation, refused before the card saw it.
        package static let mechanismNotSupported = Code("mechanism not supported", .user)
        /// A decrypted block that is not a well-formed PKCS#1 v1.5 type-2 block (or a card that said so).
        package static let encryptedDataInvalid = Code("encrypted data invalid", .user)
        package static let fileNotFound = Code("file not found", .fatal)
        /// The card's wrong-sequence answer (6985) persisted after reselecting the application.
        package static let conditionsNotSatisfied = Code("conditions of use not satisfied", .retriable)
        /// The card lost its application context (another stack, a reset) and the verification with it.
        package static let contextLost = Code("card context lost", .retriable)
        /// A status word the operation does not expect.
        package static let unexpectedStatus = Code("unexpected status word", .fatal)
        /// Card data (PKCS#15, DOCP, certificate) that does not parse.
        package static let malformedCardData = Code("malformed card data", .fatal)
        /// The reader or PC/SC failed; `cardError` has the details.
        package static let transport = Code("card transport", .retriable)
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

    package init(_ error: CardError) {
        self.init(.transport, error.description, cardError: error, file: error.file, line: error.line)
    }

    package static func == (lhs: IASECCError, rhs: IASECCError) -> Bool { lhs.code == rhs.code }
    package func hash(into hasher: inout Hasher) { hasher.combine(code) }

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
