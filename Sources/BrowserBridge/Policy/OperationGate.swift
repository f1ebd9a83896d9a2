import Foundation

/// Lets one user-facing operation (a PIN dialog and its card work, a pairing dialog, a consent
/// dialog) run at a time, across every caller: a second one is refused with ERR_ACTION_PENDING
/// rather than queued behind a dialog the user has not answered yet. `/v1/cancel` reaches the running
/// one through its `CancellationHook`.
package final class OperationGate: @unchecked Sendable {  // state under `lock`
    package struct Ticket: Sendable {
        package let requestID: String?
        package let caller: String
        package let hook: CancellationHook
        fileprivate let serial: UInt64
    }

    private let lock = NSLock()
    private var running: Ticket?
    private var serial: UInt64 = 0

    package init() {}

    package func begin(requestID: String?, caller: String) throws(BridgeError) -> Ticket {
        let admitted: Ticket? = lock.withLock {
            if running != nil { return nil }
            serial += 1
            let ticket = Ticket(requestID: requestID, caller: caller, hook: CancellationHook(), serial: serial)
            running = ticket
            return ticket
        }
        guard let admitted else {
            throw BridgeError(.actionPending, "another card operation is waiting for the user", requestID: requestID)
        }
        return admitted
    }

    package func end(_ ticket: Ticket) {
        lock.withLock { if running?.serial == ticket.serial { running = nil } }
    }

    /// Cancels the running operation if it is `requestID`'s and belongs to `caller`.
    package func cancel(requestID: String, caller: String) -> Bool {
        let ticket = lock.withLock { running }
        guard let ticket, ticket.requestID == requestID, ticket.caller == caller else { return false }
        return ticket.hook.cancel()
    }

    package var isBusy: Bool { lock.withLock { running != nil } }
}

/// How a cancel request reaches a dialog running on another thread. A cancel that arrives before the
/// dialog registered its handler is remembered and applied at registration.
package final class CancellationHook: @unchecked Sendable {  // state under `lock`
    private let lock = NSLock()
    private var handler: (@Sendable () -> Void)?
    private var cancelled = false
    private var cancellable = true

    package init() {}

    package var isCancelled: Bool { lock.withLock { cancelled } }

    /// Returns false when the operation is past the point where it can be cancelled.
    @discardableResult
    package func cancel() -> Bool {
        let action: (@Sendable () -> Void)? = lock.withLock {
            guard cancellable, !cancelled else { return nil }
            cancelled = true
            return handler ?? {}
        }
        action?()
        return action != nil
    }

    package func onCancel(_ action: @escaping @Sendable () -> Void) {
        let runNow = lock.withLock { () -> Bool in
            if cancelled { return true }
            handler = action
            return false
        }
        if runNow { action() }
    }

    /// The card is working: from here a cancel is refused (the signature either happens or fails).
    package func closeCancellation() -> Bool {
        lock.withLock {
            handler = nil
            if cancelled { return false }
            cancellable = false
            return true
        }
    }
}
