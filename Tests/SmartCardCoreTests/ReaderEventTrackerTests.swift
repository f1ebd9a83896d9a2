import SmartCardCore
import Testing

@Suite("Reader event tracking")
struct ReaderEventTrackerTests {
    let atr = CardKind.cps3ContactATR

    @Test("first snapshot reports readers, then cards")
    func initial() {
        var tracker = ReaderEventTracker()
        let events = tracker.update([
            ReaderStatus(name: "A", cardPresent: true, atr: atr), ReaderStatus(name: "B", cardPresent: false),
        ])
        #expect(events == [.readerAdded("A"), .cardInserted(reader: "A", atr: atr), .readerAdded("B")])
    }

    @Test("insertion, removal, unplugging and a quick swap")
    func changes() {
        var tracker = ReaderEventTracker()
        _ = tracker.update([ReaderStatus(name: "A", cardPresent: false)])
        #expect(tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)]) == [.cardInserted(reader: "A", atr: atr)])
        #expect(tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)]).isEmpty)
        #expect(
            tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)], quickChange: ["A"])
                == [.cardRemoved(reader: "A"), .cardInserted(reader: "A", atr: atr)])
        #expect(tracker.update([ReaderStatus(name: "A", cardPresent: false)]) == [.cardRemoved(reader: "A")])
        _ = tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)])
        #expect(tracker.update([]) == [.cardRemoved(reader: "A"), .readerRemoved("A")])
        #expect(tracker.readers.isEmpty)
    }

    @Test("reset forgets everything and the next update starts over")
    func reset() {
        var tracker = ReaderEventTracker()
        _ = tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)])
        #expect(tracker.reset() == [.cardRemoved(reader: "A"), .readerRemoved("A")])
        #expect(tracker.update([ReaderStatus(name: "A", cardPresent: true, atr: atr)]).count == 2)
    }
}
