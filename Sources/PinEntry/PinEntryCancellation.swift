import Foundation

/// Lets another thread end a dialog: the bridge cancels when the browser request goes away or cpsd stops.
///
/// `cancel()` is sticky: the dialog running now ends (its program gets SIGTERM, and the waiting call throws
/// `.cancelled` within about 100 ms even if the program ignores the signal), and any later dialog given this
/// object throws `.cancelled` without starting. One object may serve several dialogs in turn.
///
/// Signalling a pid is safe only while it cannot be reused: a dialog registers its child after spawning it
/// and unregisters it, under the same lock, before reaping it, so `cancel()` never signals a reaped pid.
/// (NSLock rather than `Mutex`, which needs macOS 15 while the package supports macOS 14.)
package final class PinEntryCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false  // Guarded by `lock`.
    private var children: Set<pid_t> = []  // Guarded by `lock`: running, not yet reaped.

    package init() {}

    package func cancel() {
        lock.lock()
        defer { lock.unlock() }
        cancelled = true
        for pid in children { ChildProcess.terminate(pid) }
    }

    package var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Registers a running child; false (and not registered) when cancelled already.
    func register(_ pid: pid_t) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !cancelled else { return false }
        children.insert(pid)
        return true
    }

    /// Must be called before the child is reaped.
    func unregister(_ pid: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        children.remove(pid)
    }
}
