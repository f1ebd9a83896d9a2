import Synchronization

/// How a cancel request reaches a dialog running on another thread. A cancel that arrives before the
/// dialog registered its handler is remembered and applied at registration.
package final class CancellationHook: Sendable {
    private struct State {
        var handler: (@Sendable () -> Void)?
        var cancelled = false
        var cancellable = true
    }

    private let state = Mutex(State())

    package init() {}

    package var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Returns false when the operation is past the point where it can be cancelled. The handler runs
    /// outside the lock: it may call back into this hook.
    @discardableResult
    package func cancel() -> Bool {
        let action: (@Sendable () -> Void)? = state.withLock { state in
            guard state.cancellable, !state.cancelled else { return nil }
            state.cancelled = true
            return state.handler ?? {}
        }
        action?()
        return action != nil
    }

    package func onCancel(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.handler = action
            return false
        }
        if runNow { action() }
    }

    /// The card is working: from here a cancel is refused (the signature either happens or fails).
    package func closeCancellation() -> Bool {
        state.withLock { state in
            state.handler = nil
            if state.cancelled { return false }
            state.cancellable = false
            return true
        }
    }
}
