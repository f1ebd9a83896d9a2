import Synchronization

/// Lets one user-facing operation (a PIN dialog and its card work, a pairing dialog, a consent
/// dialog) run at a time, across every caller: a second one is refused with ERR_ACTION_PENDING
/// rather than queued behind a dialog the user has not answered yet. `/v1/cancel` reaches the running
/// one through its `CancellationHook`.
package final class OperationGate: Sendable {
    package struct Ticket: Sendable {
        package let requestID: String?
        package let caller: String
        package let hook: CancellationHook
        fileprivate let serial: UInt64
    }

    private struct State {
        var running: Ticket?
        var serial: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    package func begin(requestID: String?, caller: String) throws(BridgeError) -> Ticket {
        let admitted: Ticket? = state.withLock { state in
            if state.running != nil { return nil }
            state.serial += 1
            let ticket = Ticket(requestID: requestID, caller: caller, hook: CancellationHook(), serial: state.serial)
            state.running = ticket
            return ticket
        }
        guard let admitted else {
            throw BridgeError(.actionPending, "another card operation is waiting for the user", requestID: requestID)
        }
        return admitted
    }

    package func end(_ ticket: Ticket) {
        state.withLock { state in if state.running?.serial == ticket.serial { state.running = nil } }
    }

    /// Cancels the running operation if it is `requestID`'s and belongs to `caller`.
    package func cancel(requestID: String, caller: String) -> Bool {
        let ticket = state.withLock { $0.running }
        guard let ticket, ticket.requestID == requestID, ticket.caller == caller else { return false }
        return ticket.hook.cancel()
    }

    package var isBusy: Bool { state.withLock { $0.running != nil } }
}
