import PKCS11
import Synchronization

/// The daemon's memory of every reader, shared between the reader actors (which publish) and the
/// card service (which reads it from PKCS#11 connection threads). A lock, not an actor: `slots()` is
/// answered synchronously and must never wait for a card.
///
/// It also hands out the stable slot IDs (one per reader name for the daemon's life), the token
/// generations, and keeps the slot event log behind `slotEvents(after:)`.
final class SlotTable: Sendable {
    private struct Entry {
        var summary: ReaderSummary
        var reader: ReaderActor
    }

    private struct State {
        var entries: [SlotID: Entry] = [:]
        var slotIDs: [String: SlotID] = [:]
        var nextSlot: SlotID = 1
        var generation: UInt64 = 0
        /// (cursor, slot) pairs, oldest first; cursors increase by one per event.
        var log: [(cursor: UInt64, slot: SlotID)] = []
        var cursor: UInt64 = 0

        mutating func slotID(for readerName: String) -> SlotID {
            if let slot = slotIDs[readerName] { return slot }
            let slot = nextSlot
            nextSlot += 1
            slotIDs[readerName] = slot
            return slot
        }

        mutating func record(_ slot: SlotID) {
            cursor += 1
            log.append((cursor, slot))
            if log.count > SlotTable.logLimit { log.removeFirst(log.count - SlotTable.logLimit / 2) }
        }
    }

    private static let logLimit = 4096
    private let state = Mutex(State())

    /// The slot of `readerName`, the same one every time the reader comes back.
    func slotID(for readerName: String) -> SlotID {
        state.withLock { $0.slotID(for: readerName) }
    }

    /// A generation number never handed out before.
    func nextGeneration() -> UInt64 {
        state.withLock { state in
            state.generation += 1
            return state.generation
        }
    }

    func add(_ reader: ReaderActor) {
        state.withLock { state in
            let summary = ReaderSummary(slot: reader.slot, readerName: reader.name, condition: .empty, token: nil)
            state.entries[reader.slot] = Entry(summary: summary, reader: reader)
            state.record(reader.slot)
        }
    }

    /// Forgets a reader at once: from now on its slot is not listed and requests for it fail.
    func remove(_ slot: SlotID) {
        state.withLock { state in
            guard state.entries.removeValue(forKey: slot) != nil else { return }
            state.record(slot)
        }
    }

    func removeAll() -> [SlotID] {
        state.withLock { state in
            let slots = state.entries.keys.sorted()
            state.entries = [:]
            for slot in slots { state.record(slot) }
            return slots
        }
    }

    /// Called by a reader actor after each change. Ignored if `reader` no longer owns the slot (a retired
    /// actor finishing its work after the reader was unplugged and plugged again).
    func publish(from reader: ReaderActor, condition: ReaderCondition, token: TokenState?) {
        state.withLock { state in
            guard var entry = state.entries[reader.slot], entry.reader === reader else { return }
            let changed = entry.summary.token?.generation != token?.generation
            entry.summary.condition = condition
            entry.summary.token = token
            state.entries[reader.slot] = entry
            if changed { state.record(reader.slot) }
        }
    }

    func reader(for slot: SlotID) -> ReaderActor? {
        state.withLock { $0.entries[slot]?.reader }
    }

    func summaries() -> [ReaderSummary] {
        state.withLock { state in state.entries.keys.sorted().compactMap { state.entries[$0]?.summary } }
    }

    func slots() -> [SlotState] {
        summaries().map { SlotState(id: $0.slot, readerName: $0.readerName, token: $0.token) }
    }

    func events(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) {
        state.withLock { state in
            var seen = Set<SlotID>()
            var slots: [SlotID] = []
            for event in state.log where event.cursor > cursor && seen.insert(event.slot).inserted {
                slots.append(event.slot)
            }
            return (slots, state.cursor)
        }
    }
}
