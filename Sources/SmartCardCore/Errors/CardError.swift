import ErrorShape
/// An error from a card or reader, grouped by what the caller can do about it (STYLE.md rule 3).
///
/// Equality compares `code` only (`CodedError`), so tests and callers match on what happened, not on the wording.
package struct CardError: CodedError {
    package enum Code: String, ErrorCode {
        /// The card was pulled out; the handle is dead.
        case cardRemoved = "card removed"
        /// Another process reset the card; reconnect and reselect.
        case cardReset = "card reset"
        /// No card in the reader.
        case noCard = "no card"
        /// The card does not answer its ATR (inserted upside down, or dead).
        case cardUnresponsive = "card unresponsive"
        /// The named reader does not exist (any more).
        case unknownReader = "unknown reader"
        /// No reader is connected at all.
        case noReaders = "no readers"
        /// The PC/SC service (pcscd) is not running or restarted.
        case serviceUnavailable = "PC/SC service unavailable"
        /// Another process holds the card exclusively.
        case sharingViolation = "sharing violation"
        case timeout = "timeout"
        case cancelled = "cancelled"
        /// The access was refused (polkit: the session is not local and active).
        case accessDenied = "access denied"
        /// The exchange with the card failed or returned something that is not a response.
        case transmitFailed = "transmit failed"
        case malformedResponse = "malformed response"
        case protocolMismatch = "protocol mismatch"
        /// A bug: an argument the layer below rejected.
        case internalError = "internal error"

        package var group: Group {
            switch self {
            case .accessDenied: .user
            case .malformedResponse, .protocolMismatch, .internalError: .fatal
            case .cardRemoved, .cardReset, .noCard, .cardUnresponsive, .unknownReader, .noReaders, .serviceUnavailable,
                .sharingViolation, .timeout, .cancelled, .transmitFailed:
                .retriable
            }
        }
    }

    package enum Group: Sendable, Hashable {
        /// Try again after reconnecting or when the condition clears.
        case retriable
        /// Something the user must act on.
        case user
        /// A protocol or programming error; retrying will not help.
        case fatal
    }

    package let code: Code
    package let reason: String
    package let file: String
    package let line: Int

    /// How many times one step starts over after other processes reset the card (`.cardReset`: nothing reached
    /// the card, which forgot its state) before the reset is reported. More than one: a middleware that resets
    /// the card after each use can do so again while a reconnect is under way.
    package static let restartsAfterReset = 3

    package init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }
}

extension CardError: CardErrorCarrier {
    /// A transport failure stands for itself.
    package init(_ cardError: CardError) { self = cardError }
    package var cardError: CardError? { self }
}
