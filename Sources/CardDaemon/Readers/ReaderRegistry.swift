package import Logging
import PKCS11
package import SmartCardCore

/// Creates and retires one `ReaderActor` per reader from the backend's event stream (no polling).
///
/// `run()` is the long-running work (a service in the executable's `ServiceGroup`): it consumes
/// `backend.events()` until the stream ends or the task is cancelled. Each reader's events are fed to
/// its actor in order by a child task of `run()`, so a slow card read in one reader never delays
/// another reader. When pcscd goes away (`serviceLost`) every reader is retired; the monitor then
/// reports the readers and cards anew after `serviceRestored`, and they come back by themselves, with
/// the same slot IDs.
package actor ReaderRegistry {
    private struct Attached {
        let reader: ReaderActor
        let events: AsyncStream<ReaderEvent>.Continuation
    }

    private let backend: any CardBackend
    private let logger: Logger
    nonisolated let table = SlotTable()
    /// How long a card stays verified for the client whose operation verified it (`VerifiedHold`); every
    /// reader reads it at each operation, so a change (cpsd's SIGHUP) applies at once.
    package nonisolated let verifiedHold: VerifiedHoldWindow
    private nonisolated let initialCards = InitialCards()
    private var attached: [String: Attached] = [:]

    /// `verifiedHold` zero: every operation that verifies a code ends with a warm reset.
    package init(backend: any CardBackend, logger: Logger, verifiedHold: Duration = .zero) {
        self.verifiedHold = VerifiedHoldWindow(verifiedHold)
        self.backend = backend
        self.logger = logger
    }

    /// The readers as the daemon sees them now, with why a slot has no token.
    package nonisolated func readers() -> [ReaderSummary] { table.summaries() }

    /// Returns once the readers and cards present at start are attached and read (or given up on), or
    /// after `timeout`: what the PKCS#11 server waits for before it accepts its first client.
    package nonisolated func initialCardsRead(timeout: Duration = .seconds(5)) async {
        await initialCards.settled(timeout: timeout)
    }

    /// Consumes the backend's events until the stream ends or the calling task is cancelled; then retires
    /// every reader. Call it once.
    package func run() async {
        logger.info("reader registry started")
        initialCards.expect((try? backend.listReaders()) ?? [])
        await withDiscardingTaskGroup { group in
            for await event in backend.events() {
                handle(event, in: &group)
            }
            retireAll()
        }
        initialCards.giveUp()
        logger.info("reader registry stopped")
    }

    private func handle(_ event: ReaderEvent, in group: inout DiscardingTaskGroup) {
        switch event {
        case .readerAdded(let name):
            attach(name, in: &group)
        case .readerRemoved(let name):
            detach(name)
        case .cardInserted(let name, _), .cardRemoved(let name):
            guard let reader = attached[name] else {
                logger.warning("event for an unknown reader", metadata: ["reader": "\(name)"])
                return
            }
            reader.events.yield(event)
        case .serviceLost:
            logger.warning("PC/SC service lost: every reader retired until it comes back")
            retireAll()
        case .serviceRestored:
            logger.notice("PC/SC service restored")
        }
    }

    private func attach(_ name: String, in group: inout DiscardingTaskGroup) {
        if attached[name] != nil { detach(name) }
        let reader = ReaderActor(
            name: name, slot: table.slotID(for: name), backend: backend, table: table, holdWindow: verifiedHold,
            logger: logger)
        let (events, continuation) = AsyncStream.makeStream(of: ReaderEvent.self, bufferingPolicy: .unbounded)
        attached[name] = Attached(reader: reader, events: continuation)
        table.add(reader)
        initialCards.readerAttached(name)
        logger.info("reader added", metadata: ["reader": "\(name)", "slot": "\(reader.slot)"])
        group.addTask { [initialCards] in
            for await event in events {
                await reader.handle(event)
                initialCards.cardSettled(name)
            }
            await reader.retire()
        }
    }

    /// The slot disappears at once; the actor finishes the events it was given, then retires.
    private func detach(_ name: String) {
        guard let reader = attached.removeValue(forKey: name) else { return }
        table.remove(reader.reader.slot)
        initialCards.cardSettled(name)
        reader.events.finish()
        logger.info("reader removed", metadata: ["reader": "\(name)", "slot": "\(reader.reader.slot)"])
    }

    private func retireAll() {
        for name in attached.keys.sorted() { detach(name) }
    }
}
