import ErrorShape
import Foundation
package import SmartCardCore

/// In-process readers and cards for tests: the `CardBackend` seam without pcsc-lite or sockets
/// (STYLE.md rule 9). Readers are plugged and cards inserted by the test; connections call the card's
/// `process` directly.
///
/// - A card is powered on when it is inserted, and again on `connect` if a disposition unpowered it.
/// - Removing a card or unplugging its reader kills existing connections: `transmit` then throws
///   `.cardRemoved` (`.unknownReader` once the reader is gone), even if another card is inserted.
/// - Transactions: each reader has one transaction owner at a time. `beginTransaction` blocks until the
///   reader's transaction is free (a condition variable, so begin and end may run on different
///   threads); `endTransaction` and `disconnect` release it. APDUs sent outside a transaction are not
///   held back.
/// - `events()` gives each consumer its own `ReaderEventTracker`, fed with a snapshot after every
///   change, so the first events describe the readers present at subscription.
package final class VirtualBackend: CardBackend, @unchecked Sendable {
    final class Slot {
        var card: (any CardSimulator)?
        /// Changes at every insertion: a connection belongs to one insertion.
        var insertion = 0
        var powered = false
        var transactionOwner: ObjectIdentifier?
        /// Counts resets and power cycles made through any connection: like PC/SC, the other
        /// connections then get `.cardReset` until they reconnect.
        var resets = 0
        /// A PIN-pad reader: what the person types when asked (nil: they press Cancel).
        var pinPad: PINPadKeys?
    }

    /// The keys a person types on a simulated PIN pad, for the VERIFY the reader is asked to make.
    package typealias PINPadKeys = @Sendable (PINPadVerify) -> [UInt8]?

    /// Guards every stored property below, and is the condition transactions wait on.
    let condition = NSCondition()
    private var order: [String] = []
    private(set) var slots: [String: Slot] = [:]
    private var subscribers: [Int: (tracker: ReaderEventTracker, continuation: AsyncStream<ReaderEvent>.Continuation)] =
        [:]
    private var nextSubscriber = 0
    private var insertionCounter = 0

    package init() {}

    /// Ends every event stream: their consumers see the end of the sequence.
    deinit {
        for subscriber in subscribers.values { subscriber.continuation.finish() }
    }

    // MARK: - Test controls

    /// Adds an empty reader; plugging a reader that exists does nothing.
    package func plugReader(_ name: String) {
        mutate {
            guard slots[name] == nil else { return }
            slots[name] = Slot()
            order.append(name)
        }
    }

    /// Makes `reader` a PIN-pad reader whose keypad types what `keys` gives (nil: the reader has no pad).
    package func setPINPad(_ reader: String, _ keys: PINPadKeys?) {
        mutate { slots[reader]?.pinPad = keys }
    }

    /// Removes a reader with its card; connections to it fail from now on.
    package func unplugReader(_ name: String) {
        mutate {
            slots[name] = nil
            order.removeAll { $0 == name }
        }
    }

    /// Puts `card` into `reader` and powers it on.
    package func insert(_ card: any CardSimulator, into reader: String) throws(CardError) {
        try mutate { () throws(CardError) in
            guard let slot = slots[reader] else { throw CardError(.unknownReader, "no reader named \(reader)") }
            guard slot.card == nil else { throw CardError(.internalError, "\(reader) already holds a card") }
            insertionCounter += 1
            slot.card = card
            slot.insertion = insertionCounter
            card.powerOn()
            slot.powered = true
        }
    }

    /// Takes the card out of `reader`, powering it off; doing so on an empty reader does nothing.
    package func removeCard(from reader: String) throws(CardError) {
        try mutate { () throws(CardError) in
            guard let slot = slots[reader] else { throw CardError(.unknownReader, "no reader named \(reader)") }
            slot.card?.powerOff()
            slot.card = nil
            slot.powered = false
            slot.transactionOwner = nil
        }
    }

    // MARK: - CardBackend

    package func listReaders() throws(CardError) -> [ReaderStatus] {
        condition.lock()
        defer { condition.unlock() }
        return snapshot()
    }

    package func connect(to reader: String) throws(CardError) -> any CardConnection {
        condition.lock()
        defer { condition.unlock() }
        guard let slot = slots[reader] else { throw CardError(.unknownReader, "no reader named \(reader)") }
        guard let card = slot.card else { throw CardError(.noCard, "no card in \(reader)") }
        if !slot.powered {
            card.powerOn()
            slot.powered = true
        }
        let atr = try Self.parse(card.atr)
        return VirtualConnection(backend: self, readerName: reader, card: card, insertion: slot.insertion, atr: atr)
    }

    package func events() -> AsyncStream<ReaderEvent> {
        let (stream, continuation) = AsyncStream<ReaderEvent>.makeStream()
        condition.lock()
        let id = nextSubscriber
        nextSubscriber += 1
        var tracker = ReaderEventTracker()
        for event in tracker.update(snapshot()) { continuation.yield(event) }
        subscribers[id] = (tracker, continuation)
        condition.unlock()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            condition.lock()
            subscribers[id] = nil
            condition.unlock()
        }
        return stream
    }

    // MARK: - Internals

    static func parse(_ bytes: [UInt8]) throws(CardError) -> ATR {
        do {
            return try ATR(bytes: bytes)
        } catch {
            throw CardError(.cardUnresponsive, error.description)
        }
    }

    /// Must be called with `condition` held.
    private func snapshot() -> [ReaderStatus] {
        order.compactMap { name in
            guard let slot = slots[name] else { return nil }
            return ReaderStatus(name: name, cardPresent: slot.card != nil, atr: slot.card?.atr ?? [])
        }
    }

    /// Runs a change under the lock, then feeds every subscriber the new snapshot and wakes waiters.
    private func mutate<R, E: Error>(_ change: () throws(E) -> R) throws(E) -> R {
        condition.lock()
        defer { condition.unlock() }
        let result = try change()
        let current = snapshot()
        for (id, var subscriber) in subscribers {
            for event in subscriber.tracker.update(current) { subscriber.continuation.yield(event) }
            subscribers[id] = subscriber
        }
        condition.broadcast()
        return result
    }
}
