/// What a reader reports at one moment: its name and what is in it.
package struct ReaderStatus: Hashable, Sendable {
    package var name: String
    package var cardPresent: Bool
    /// The ATR of the card in the reader, empty without a card.
    package var atr: [UInt8]
    /// Another process holds the card exclusively.
    package var exclusive: Bool
    /// The card does not answer (no ATR).
    package var mute: Bool

    package init(name: String, cardPresent: Bool, atr: [UInt8] = [], exclusive: Bool = false, mute: Bool = false) {
        self.name = name
        self.cardPresent = cardPresent
        self.atr = atr
        self.exclusive = exclusive
        self.mute = mute
    }

    package var cardKind: CardKind? { cardPresent ? CardKind(atr: atr) : nil }
}

/// A change seen on the readers, in the order it happened.
package enum ReaderEvent: Hashable, Sendable {
    case readerAdded(String)
    case readerRemoved(String)
    case cardInserted(reader: String, atr: [UInt8])
    case cardRemoved(reader: String)
    /// The PC/SC service went away (pcscd stopped or restarted): every handle is dead.
    case serviceLost
    /// The service is back; the events that follow describe the readers from scratch.
    case serviceRestored
}
