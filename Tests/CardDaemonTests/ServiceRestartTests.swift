import CardDaemon
import CardTestSupport
import Foundation
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// A backend whose event stream can say what the PC/SC monitor says when pcscd restarts: `serviceLost`
/// (here without the per-reader removals first, the harder case), then `serviceRestored` and every
/// reader and card reported anew.
final class RestartableBackend: CardBackend, @unchecked Sendable {
    let inner = VirtualBackend()
    private let lock = NSLock()
    private var continuations: [AsyncStream<ReaderEvent>.Continuation] = []

    func listReaders() throws(CardError) -> [ReaderStatus] { try inner.listReaders() }
    func connect(to reader: String) throws(CardError) -> any CardConnection { try inner.connect(to: reader) }

    func events() -> AsyncStream<ReaderEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ReaderEvent.self)
        let innerEvents = inner.events()
        lock.withLock { continuations.append(continuation) }
        let forwarder = Task {
            for await event in innerEvents { continuation.yield(event) }
        }
        continuation.onTermination = { _ in forwarder.cancel() }
        return stream
    }

    func restartService() throws {
        let readers = try inner.listReaders()
        var events: [ReaderEvent] = [.serviceLost, .serviceRestored]
        for reader in readers {
            events.append(.readerAdded(reader.name))
            if reader.cardPresent { events.append(.cardInserted(reader: reader.name, atr: reader.atr)) }
        }
        lock.withLock { for continuation in continuations { for event in events { continuation.yield(event) } } }
    }
}

@Suite struct ServiceRestartTests {
    @Test func everythingComesBackAfterAServiceRestart() async throws {
        let backend = RestartableBackend()
        let logs = LogCapture()
        let registry = ReaderRegistry(backend: backend, logger: logs.logger)
        let cards = CardService(registry: registry, logger: logs.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await registry.run() }
            backend.inner.plugReader(Daemon.reader)
            try backend.inner.insert(RecordingCard(), into: Daemon.reader)
            let before = try await eventually("a token") { cards.slots().first { $0.token != nil } }
            try await onThread {
                try cards.login(
                    client: ClientID(1), slot: before.id, generation: before.token!.generation, userType: .user,
                    pin: Codes.pin())
            }

            try backend.restartService()
            let after = try await eventually("the token back") {
                cards.slots().first { $0.token != nil && $0.token?.generation != before.token?.generation }
            }
            #expect(after.id == before.id)
            #expect(logs.lines.contains { $0.message.contains("PC/SC service lost") })
            try await onThread {
                #expect(throws: TokenError(.deviceRemoved, "")) {
                    try cards.generateRandom(
                        client: ClientID(1), slot: before.id, generation: before.token!.generation, length: 8)
                }
                let random = try cards.generateRandom(
                    client: ClientID(1), slot: after.id, generation: after.token!.generation, length: 8)
                #expect(random.count == 8)
            }
            group.cancelAll()
        }
    }
}
