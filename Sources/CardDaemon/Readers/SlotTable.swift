import Foundation
package import PKCS11

/// What a reader is doing, as the reader actor last published it. It says why a slot shows no token.
package enum ReaderCondition: Sendable, Hashable, CustomStringConvertible {
    case empty
    case reading
    case present
    /// A card is in the reader but gives no token (not a CPS3, unreadable, removed while being read).
    case failed(reason: String)
    case gone

    package var description: String {
        switch self {
        case .empty: "no card"
        case .reading: "reading the card"
        case .present: "card ready"
        case .failed(let reason): "no token: \(reason)"
        case .gone: "reader gone"
        }
    }
}

/// One reader as the daemon shows it: its slot, its condition, its token.
package struct ReaderSummary: Sendable, Hashable {
    package var slot: SlotID
    package var readerName: String
    package var condition: ReaderCondition
    package var token: TokenState?
}

/// The daemon's memory of every reader, shared between the reader actors (which publish) and the
/// token driver (which reads it from PKCS#11 connection threads). A lock, not an actor: `slots()` is
/// answered synchronously and must never wait for a card.
///
/// It also hands out the stable slot IDs (one per reader name for the daemon's life), the token
/// generations, and keeps the slot event log behind `slotEvents(after:)`.
final class SlotTable: @unchecked Sendable {
    private struct Entry {
        var summary: ReaderSummary
        var reader: ReaderActor
    }

    private let lock = NSLock()
    private var entries: [SlotID: Entry] = [:]
    private var slotIDs: [String: SlotID] = [:]
    private var nextSlot: SlotID = 1
    private var generation: UInt64 = 0
    /// (cursor, slot) pairs, oldest first; cursors increase by one per event.
    private var log: [(cursor: UInt64, slot: SlotID)] = []
    private var cursor: UInt64 = 0
    private static let logLimit = 4096

    /// The slot of `readerName`, the same one every time the reader comes back.
    func slotID(for readerName: String) -> SlotID {
        lock.withLock { slotIDLocked(readerName) }
    }

    /// A generation number never handed out before.
    func nextGeneration() -> UInt64 {
        lock.withLock {
            generation += 1
            return generation
        }
    }

    func add(_ reader: ReaderActor) {
        lock.withLock {
            let summary = ReaderSummary(slot: reader.slot, readerName: reader.name, condition: .empty, token: nil)
            entries[reader.slot] = Entry(summary: summary, reader: reader)
            record(reader.slot)
        }
    }

    /// Forgets a reader at once: from now on its slot is not listed and requests for it fail.
    func remove(_ slot: SlotID) {
        lock.withLock {
            guard entries.removeValue(forKey: slot) != nil else { return }
            record(slot)
        }
    }

    func removeAll() -> [SlotID] {
        lock.withLock {
            let slots = entries.keys.sorted()
            entries = [:]
            for slot in slots { record(slot) }
            return slots
        }
    }

    /// Called by a reader actor after each change. Ignored if `reader` no longer owns the slot (a retired
    /// actor finishing its work after the reader was unplugged and plugged again).
    func publish(from reader: ReaderActor, condition: ReaderCondition, token: TokenState?) {
        lock.withLock {
            guard var entry = entries[reader.slot], entry.reader === reader else { return }
            let changed = entry.summary.token?.generation != token?.generation
            entry.summary.condition = condition
            entry.summary.token = token
            entries[reader.slot] = entry
            if changed { record(reader.slot) }
        }
    }

    func reader(for slot: SlotID) -> ReaderActor? {
        lock.withLock { entries[slot]?.reader }
    }

    func summaries() -> [ReaderSummary] {
        lock.withLock { entries.keys.sorted().compactMap { entries[$0]?.summary } }
    }

    func slots() -> [SlotState] {
        summaries().map { SlotState(id: $0.slot, readerName: $0.readerName, token: $0.token) }
    }

    func events(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) {
        lock.withLock {
            var seen = Set<SlotID>()
            var slots: [SlotID] = []
            for event in log where event.cursor > cursor && seen.insert(event.slot).inserted {
                slots.append(event.slot)
            }
            return (slots, self.cursor)
        }
    }

    private func slotIDLocked(_ readerName: String) -> SlotID {
        if let slot = slotIDs[readerName] { return slot }
        let slot = nextSlot
        nextSlot += 1
        slotIDs[readerName] = slot
        return slot
    }

    /// Must be called with the lock held.
    private func record(_ slot: SlotID) {
        cursor += 1
        log.append((cursor, slot))
        if log.count > Self.logLimit { log.removeFirst(log.count - Self.logLimit / 2) }
    }
}
