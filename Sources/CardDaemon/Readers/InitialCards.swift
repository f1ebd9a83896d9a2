import SmartCardCore
import Synchronization

/// The readers and cards present when cpsd starts, until each reader is attached and each card read (or
/// given up on). The PKCS#11 server opens after that: under socket activation the very client that started
/// cpsd asks for the slot list at once, and must see the token. Driven by the registry's own events; a
/// waiter wakes when the last one is settled, never by polling.
final class InitialCards: Sendable {
    private struct State {
        /// nil until the registry has listed the readers at its start.
        var pendingReaders: Set<String>?
        var pendingCards: Set<String> = []
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0

        var isSettled: Bool { pendingReaders?.isEmpty == true && pendingCards.isEmpty }
    }

    private let state = Mutex(State())

    /// What PC/SC reports at the registry's start: these readers, and cards in some of them.
    func expect(_ readers: [ReaderStatus]) {
        update { state in
            state.pendingReaders = Set(readers.map(\.name))
            state.pendingCards = Set(readers.filter(\.cardPresent).map(\.name))
        }
    }

    func readerAttached(_ name: String) { update { _ = $0.pendingReaders?.remove(name) } }

    /// The reader handled a card event (the card read, refused, or gone) or was detached.
    func cardSettled(_ name: String) { update { _ = $0.pendingCards.remove(name) } }

    /// The registry stopped: nothing more will be settled.
    func giveUp() {
        update { state in
            state.pendingReaders = []
            state.pendingCards = []
        }
    }

    /// Returns once every initial card is settled, or after `timeout`, or when the task is cancelled.
    func settled(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.settled() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func settled() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.isSettled || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            change(&state)
            guard state.isSettled else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }
}
