import IASECC
import Logging
import PKCS11
import PKCS11Constants
import SmartCardCore

/// Owns one reader and serializes every exchange with its card (STYLE.md §2, rule 6).
///
/// It runs on a thread of its own (`ReaderThreadExecutor`), never on the cooperative pool. It reads a
/// card once, at insertion, and answers every later question from memory; the PIN counters it keeps
/// are updated from the answers to its own operations, and read again (at most once a second) when a
/// client asks for the token's flags, so a try spent through another middleware shows. Each card operation is one synchronous PC/SC
/// transaction with no suspension point inside, so operations of different clients never interleave
/// their APDUs, even though actor methods are reentrant.
actor ReaderActor {
    /// The reader's life, one state at a time.
    enum State: Sendable {
        /// No card in the reader.
        case empty
        /// The card of this generation is being read (only visible from outside through the table).
        case reading(generation: UInt64)
        /// A CPS3 read successfully, with its connection.
        case present(InsertedCard)
        /// A card that gives no token, and why.
        case failed(reason: String)
        /// The reader was unplugged or the PC/SC service went away; the actor takes no more work.
        case gone
    }

    nonisolated let name: String
    nonisolated let slot: SlotID
    let executor: ReaderThreadExecutor
    private let backend: any CardBackend
    private let table: SlotTable
    let logger: Logger
    private(set) var state: State = .empty
    /// When the counters were last read for C_GetTokenInfo (`refreshCounters`).
    var countersReadAt: ContinuousClock.Instant?
    /// How long a card stays verified for the same client after its operation (`VerifiedHold`).
    let holdWindow: VerifiedHoldWindow
    /// The number of holds started on this reader: each hold's episode, for its timer.
    var holdsStarted: UInt64 = 0

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(
        name: String, slot: SlotID, backend: any CardBackend, table: SlotTable, holdWindow: VerifiedHoldWindow,
        logger: Logger
    ) {
        self.name = name
        self.holdWindow = holdWindow
        self.slot = slot
        self.backend = backend
        self.table = table
        var logger = logger
        logger[metadataKey: "reader"] = "\(name)"
        logger[metadataKey: "slot"] = "\(slot)"
        self.logger = logger
        executor = ReaderThreadExecutor(name: name)
    }

    deinit { executor.shutdown() }

    // MARK: - Reader events

    func handle(_ event: ReaderEvent) {
        switch event {
        case .cardInserted(_, let atr): cardInserted(atr: atr)
        case .cardRemoved: cardRemoved()
        case .readerAdded, .readerRemoved, .serviceLost, .serviceRestored: break
        }
    }

    /// Connects in shared mode and reads the card once. A foreign card, an unreadable one, or one pulled
    /// out while being read leaves the slot without a token and says why.
    func cardInserted(atr: [UInt8]) {
        if case .gone = state { return }
        forgetCard(resetIfVerified: false)
        let generation = table.nextGeneration()
        let kind = CardKind(atr: atr)
        guard let driver = CardDrivers.driver(for: atr) else {
            logger.notice("card inserted, not supported", metadata: ["kind": "\(kind.displayName)"])
            set(.failed(reason: "\(kind.displayName) is not supported (CPS3 and CPS4 contact cards only)"))
            return
        }
        set(.reading(generation: generation))
        let start = ContinuousClock.now
        let connection: any CardConnection
        do {
            connection = try backend.connect(to: name)
        } catch {
            logger.warning("cannot connect to the card", metadata: ["error": "\(error)"])
            set(.failed(reason: "cannot connect: \(error.reason)"))
            return
        }
        do {
            let contents = try CPS3Driver.perform(on: connection) { (session) throws(IASECCError) in
                try driver.readCard(&session)
            }
            set(
                .present(
                    InsertedCard(
                        generation: generation, connection: connection, driver: driver.bound(to: contents),
                        contents: contents)))
            logger.info(
                "card read",
                metadata: [
                    "kind": "\(kind.rawValue)", "serial": "\(contents.serialNumber)", "generation": "\(generation)",
                    "pin_tries_left": "\(contents.pinStatus.pin.triesLeft)",
                    "duration_ms": "\((ContinuousClock.now - start).milliseconds)",
                ])
        } catch {
            connection.disconnect(.leave)
            let mapped = TokenErrorMapping.map(error)
            let reason =
                mapped.code == .deviceRemoved ? "the card was removed while being read" : "unreadable card: \(error)"
            logger.warning("card not read", metadata: ["error": "\(error)"])
            set(.failed(reason: reason))
        }
    }

    func cardRemoved() {
        if case .gone = state { return }
        forgetCard(resetIfVerified: false)
        set(.empty)
        logger.info("card removed")
    }

    /// The reader is gone (unplugged, or pcscd went away): drop the card and take no more work.
    func retire() {
        forgetCard(resetIfVerified: true)
        set(.gone)
        logger.info("reader retired")
    }

    /// Forgets the card; a card that is still there is reset so nobody finds it verified.
    private func forgetCard(resetIfVerified: Bool) {
        if case .present(let card) = state {
            card.connection.disconnect(resetIfVerified && card.mayBeVerified ? .reset : .leave)
        }
        state = .empty
    }

    // MARK: - Publishing

    func set(_ newState: State) {
        state = newState
        publish()
    }

    func publish() {
        switch state {
        case .empty: table.publish(from: self, condition: .empty, token: nil)
        case .reading: table.publish(from: self, condition: .reading, token: nil)
        case .present(let card): table.publish(from: self, condition: .present, token: card.token)
        case .failed(let reason): table.publish(from: self, condition: .failed(reason: reason), token: nil)
        case .gone: table.publish(from: self, condition: .gone, token: nil)
        }
    }

    // MARK: - Running an operation

    /// Runs `body` on the card of `generation`, then stores the card's new state and publishes it.
    /// `body` is synchronous: nothing else runs on this reader until it returns. It throws the driver chain's
    /// one error type, so a transport failure is told by its code and the error becomes a CKR here, once.
    func operate<R>(
        _ generation: UInt64, _ operation: String, _ body: (inout InsertedCard) throws(IASECCError) -> R
    ) throws(TokenError) -> R {
        guard case .present(var card) = state else {
            throw TokenError(.deviceRemoved, "\(operation): no card of generation \(generation) in \(name)")
        }
        guard card.generation == generation else {
            throw TokenError(.deviceRemoved, "\(operation): the card of generation \(generation) was removed")
        }
        defer {
            if case .present(let current) = state, current.generation == card.generation {
                set(.present(card))
            }
        }
        do {
            return try body(&card)
        } catch {
            if Self.isTransportFailure(error) { card.transportFailed() }
            let mapped = TokenErrorMapping.map(error)
            logger.debug("operation failed", metadata: ["operation": "\(operation)", "error": "\(mapped)"])
            throw mapped
        }
    }
}

extension ReaderActor {
    /// The exchange with the card broke (pulled, reset, garbled): cpsd no longer knows what the card did,
    /// nor that it is still the same card (pulled and put back, or swapped, faster than pcscd looked). Any
    /// transport failure counts, whatever PC/SC said: ending the logins is the safe side.
    static func isTransportFailure(_ error: IASECCError) -> Bool { error.code == .transport }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
