import CardDaemon
import CardTestSupport
import Foundation
import Logging
import PKCS11
import SmartCardCore
import VirtualCard

/// The daemon's own token cards — `CardService` over a running `ReaderRegistry` and its reader
/// actors — with an in-process virtual card in one reader: the PKCS#11 tests drive the real PIN
/// isolation and card handling, not a copy of them.
///
/// It forwards every `TokenService` call unchanged (`DaemonToken+TokenService.swift`: a new requirement of
/// the protocol needs one more forwarding method there); it only records which clients the PKCS#11 layer
/// said goodbye for. What the card was sent is counted on the card itself (`CommandRecordingCard`).
/// Card operations block their caller: use it from a test body under `onThread`, never from the pool.
final class DaemonToken: @unchecked Sendable {
    static let readerName = InProcessCard.readerName

    let backend = VirtualBackend()
    let cards: CardService
    let slot: SlotID
    private let registryTask: Task<Void, Never>
    private let lock = NSLock()
    private var inserted: (card: CPS3Card, recording: CommandRecordingCard)?
    private var ended: [ClientID] = []

    init(state: CardState = TestCards.defaultState) throws {
        try Self.requireDedicatedThread()
        let logger = Logger(label: "cpsd.pkcs11-tests") { _ in SwiftLogNoOpLogHandler() }
        let registry = ReaderRegistry(backend: backend, logger: logger)
        cards = CardService(registry: registry, logger: logger)
        // The registry replays the backend's readers and cards when it subscribes: no race with the plug below.
        registryTask = Task.detached { await registry.run() }
        backend.plugReader(Self.readerName)
        let cards = cards
        try waitUntil("the reader's slot") { cards.slots().contains { $0.readerName == Self.readerName } }
        guard let slot = cards.slots().first(where: { $0.readerName == Self.readerName })?.id else {
            throw FixtureError("no slot for \(Self.readerName)")
        }
        self.slot = slot
        try insertCard(state)
    }

    /// Stops the registry: its reader actors retire and their threads end.
    deinit { registryTask.cancel() }

    static func requireDedicatedThread() throws {
        guard mayBlock else {
            throw FixtureError(
                "the daemon's cards blocks its caller: run the test body on a dedicated thread (try await onThread { ... })"
            )
        }
    }

    // MARK: - Test controls

    /// Pulls the card out of the reader, and waits until the daemon has seen it go.
    func removeCard() throws {
        try backend.removeCard(from: Self.readerName)
        lock.withLock { inserted = nil }
        try waitUntil("the card's removal") { token == nil }
    }

    /// Inserts a card made from `state` (a new generation), and waits until the daemon has read it.
    func insertCard(_ state: CardState = TestCards.defaultState) throws {
        let previous = token?.generation
        let card = TestCards.card(state)
        let recording = CommandRecordingCard(card)
        lock.withLock { inserted = (card, recording) }
        try backend.insert(recording, into: Self.readerName)
        try waitUntil("the inserted card's token") { token.map { $0.generation != previous } ?? false }
    }

    /// The token the daemon shows now, from its memory.
    var token: TokenState? { cards.slots().first { $0.id == slot }?.token }

    /// The simulator in the reader (its persisted state: PIN value, counters, certificates).
    var card: CPS3Card? { lock.withLock { inserted?.card } }

    /// The commands the card in the reader received since it was inserted.
    var commands: [CommandRecordingCard.Command] { lock.withLock { inserted?.recording.sent } ?? [] }

    /// VERIFY commands carrying a code that reached the card: a PIN is never sent twice needlessly.
    var verifyCount: Int { commands.filter(\.isVerifyWithData).count }

    /// Decryptions the card carried out (PSO DECIPHER, last part).
    var decryptCount: Int { commands.filter(\.isLastDecipherPart).count }

    /// True when the card holds a verified PIN now, asked through a connection of its own with VERIFY
    /// without data (`00 20 00 01`, the CPS3 PIN: 9000 only when verified). Costs no try.
    var isCardVerified: Bool {
        get throws {
            let connection = try backend.connect(to: Self.readerName)
            defer { connection.disconnect(.leave) }
            return try connection.transmit([0x00, 0x20, 0x00, 0x01]) == [0x90, 0x00]
        }
    }

    /// Clients the PKCS#11 layer said goodbye for (`clientEnded`).
    var endedClients: [ClientID] { lock.withLock { ended } }

    /// Notes that the PKCS#11 layer said goodbye for `client`.
    func recordEnded(_ client: ClientID) { lock.withLock { ended.append(client) } }
}
