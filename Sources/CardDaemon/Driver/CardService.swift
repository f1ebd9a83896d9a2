import Foundation
package import Logging
package import PKCS11
import SmartCardCore
import Synchronization

/// The daemon's card API, which the PKCS#11 server and the browser bridge both call: questions answered
/// from the registry's memory, card operations carried out by the reader actors.
///
/// A card operation is described once (`CardOperation`, built by the methods of `CardService+Operations`)
/// and run one of two ways, each a single hop to the reader's own thread: `perform` from a task, and
/// `performBlocking` from a thread that is not a task (a p11-kit connection thread, a bridge worker), which
/// waits without starting a task. `slots()` and `slotEvents(after:)` never wait for a card: they read a
/// snapshot under a lock.
///
/// Every signature and decryption writes one audit line (`audit=signature`) with the client, its peer when
/// known (`setPeer`), the key, the mechanism, the result and the duration. No PIN and no APDU data is logged.
package final class CardService: Sendable {
    let table: SlotTable
    let logger: Logger
    let peers = Mutex<[ClientID: PeerInfo]>([:])

    package init(registry: ReaderRegistry, logger: Logger) {
        table = registry.table
        self.logger = logger
    }

    // MARK: - From memory

    package func slots() -> [SlotState] { table.slots() }

    package func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) {
        table.events(after: cursor)
    }

    // MARK: - Running card operations

    /// Runs `operation` from a task: one actor call on the reader's thread.
    package func perform<Output: Sendable>(_ operation: CardOperation<Output>) async throws(TokenError) -> Output {
        let start = ContinuousClock.now
        let result: Result<Output, TokenError>
        do throws(TokenError) {
            result = .success(try await reader(operation.slot).run(operation.work))
        } catch {
            result = .failure(error)
        }
        operation.finished(result, ContinuousClock.now - start)
        return try result.get()
    }

    /// Runs `operation` from a dedicated thread, which waits while the reader's thread does the work. Never
    /// from a task: a pool thread blocked here could starve the work it waits for.
    package func performBlocking<Output: Sendable>(_ operation: CardOperation<Output>) throws(TokenError) -> Output {
        let start = ContinuousClock.now
        let result = Result { () throws(TokenError) in try reader(operation.slot).runBlocking(operation.work) }
        operation.finished(result, ContinuousClock.now - start)
        return try result.get()
    }

    private func reader(_ slot: SlotID) throws(TokenError) -> ReaderActor {
        guard let reader = table.reader(for: slot) else { throw TokenError(.slotInvalid, "no slot \(slot)") }
        return reader
    }

    // MARK: - Clients

    package func setPeer(_ peer: PeerInfo?, for client: ClientID) { peers.withLock { $0[client] = peer } }

    func peer(of client: ClientID) -> PeerInfo? { peers.withLock { $0[client] } }
}
