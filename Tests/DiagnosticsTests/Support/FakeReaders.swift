import Diagnostics
import PCSC
import SmartCardCore
import VirtualCard

/// PC/SC for diag: the in-process `VirtualBackend` (the `CardBackend` seam's own fake) for readers and
/// cards, a table of reader features, and optionally pcscd failing as a whole.
struct FakeReaders: DiagReaderAccess {
    let backend = VirtualBackend()
    /// What listing the readers throws (pcscd down or refusing), when set.
    var listingError: CardError?
    var features: [String: ReaderFeatures] = [:]

    func listReaders() throws(CardError) -> [ReaderStatus] {
        if let listingError { throw listingError }
        return try backend.listReaders()
    }

    func connect(to reader: String) throws(CardError) -> any CardConnection { try backend.connect(to: reader) }

    func events() -> AsyncStream<ReaderEvent> { backend.events() }

    func readerFeatures(of reader: String) throws(CardError) -> ReaderFeatures {
        guard let found = features[reader] else { throw CardError(.sharingViolation, "held by another program") }
        return found
    }
}
