package import PCSC
package import SmartCardCore

/// PC/SC as diag uses it: the readers, a shared connection to a card (the `CardBackend` seam), and each
/// reader's part 10 feature list.
package protocol DiagReaderAccess: CardBackend {
    /// The reader's features (a direct connection to the reader: no APDU, the card is not touched).
    func readerFeatures(of reader: String) throws(CardError) -> ReaderFeatures
}

extension PCSCBackend: DiagReaderAccess {}
