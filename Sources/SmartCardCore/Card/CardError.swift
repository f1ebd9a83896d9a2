/// An error from a card or reader, grouped by what the caller can do about it (STYLE.md rule 3).
///
/// Equality compares `code` only, so tests and callers match on what happened, not on the wording.
package struct CardError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        package let group: Group
        private init(_ rawValue: String, _ group: Group) {
            self.rawValue = rawValue
            self.group = group
        }
        package var description: String { rawValue }

        /// The card was pulled out; the handle is dead.
        package static let cardRemoved = Code("card removed", .retriable)
        /// Another process reset the card; reconnect and reselect.
        package static let cardReset = Code("card reset", .retriable)
        /// No card in the reader.
        package static let noCard = Code("no card", .retriable)
        /// The card does not answer its ATR (inserted upside down, or dead).
        package static let cardUnresponsive = Code("card unresponsive", .retriable)
        /// The named reader does not exist (any more).
        package static let unknownReader = Code("unknown reader", .retriable)
        /// No reader is connected at all.
        package static let noReaders = Code("no readers", .retriable)
        /// The PC/SC service (pcscd) is not running or restarted.
        package static let serviceUnavailable = Code("PC/SC service unavailable", .retriable)
        /// Another process holds the card exclusively.
        package static let sharingViolation = Code("sharing violation", .retriable)
        package static let timeout = Code("timeout", .retriable)
        package static let cancelled = Code("cancelled", .retriable)
        /// The access was refused (polkit: the session is not local and active).
        package static let accessDenied = Code("access denied", .user)
        /// The exchange with the card failed or returned something that is not a response.
        package static let transmitFailed = Code("transmit failed", .retriable)
        package static let malformedResponse = Code("malformed response", .fatal)
        package static let protocolMismatch = Code("protocol mismatch", .fatal)
        /// A bug: an argument the layer below rejected.
        package static let internalError = Code("internal error", .fatal)
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

    package init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    package static func == (lhs: CardError, rhs: CardError) -> Bool { lhs.code == rhs.code }
    package func hash(into hasher: inout Hasher) { hasher.combine(code) }

    package var description: String { "\(code): \(reason)" }
}
