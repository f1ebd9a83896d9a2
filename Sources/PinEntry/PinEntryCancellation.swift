import Foundation
import Synchronization

/// Lets another thread end a dialog: the bridge cancels when the browser request goes away or cpsd stops.
///
/// `cancel()` is sticky: the dialog running now ends (its program gets SIGTERM, and the waiting call throws
/// `.cancelled` within about 100 ms even if the program ignores the signal), and any later dialog given this
/// object throws `.cancelled` without starting. One object may serve several dialogs in turn.
///
/// Signalling a pid is safe only while it cannot be reused: a dialog registers its child after spawning it
/// and unregisters it, under the same lock, before reaping it, so `cancel()` never signals a reaped pid.
package final class PinEntryCancellation: Sendable {
    private struct State {
        var cancelled = false
        /// Running, not yet reaped.
        var children: Set<pid_t> = []
    }

    private let state = Mutex(State())

    package init() {}

    package func cancel() {
        state.withLock { state in
            state.cancelled = true
            for pid in state.children { ChildProcess.terminate(pid) }
        }
    }

    package var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Registers a running child; false (and not registered) when cancelled already.
    func register(_ pid: pid_t) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.children.insert(pid)
            return true
        }
    }

    /// Must be called before the child is reaped.
    func unregister(_ pid: pid_t) {
        state.withLock { _ = $0.children.remove(pid) }
    }
}
