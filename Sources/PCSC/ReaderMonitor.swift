import Foundation
import SmartCardCore
import Synchronization

/// Watches readers and cards on a dedicated thread with `SCardGetStatusChange`, never polling: the
/// thread sleeps inside pcsc-lite until something changes, and `cancel()` wakes it with `SCardCancel`.
///
/// When pcscd goes away every reader is reported removed, then `serviceLost`; the monitor waits with
/// a growing backoff (the only timed wait, and only while pcscd is down), then reports
/// `serviceRestored` and the readers anew.
final class ReaderMonitor: Sendable {
    private struct Shared {
        var cancelled = false
        var context: ContextHandle?
    }

    private let shared = Mutex(Shared())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let emit: @Sendable (ReaderEvent) -> Void
    private let finished: @Sendable () -> Void

    init(emit: @escaping @Sendable (ReaderEvent) -> Void, finished: @escaping @Sendable () -> Void) {
        self.emit = emit
        self.finished = finished
    }

    /// Every monitor thread still running, so a process can wait for them before it exits: libpcsclite's
    /// exit-time destructor frees its context list, and a monitor thread still returning from
    /// SCardGetStatusChange then crashes inside libpcsclite (seen at cpsd's SIGTERM under load).
    static let running = DispatchGroup()

    func start() {
        Self.running.enter()
        let thread = Thread { [self] in
            run()
            finished()
            Self.running.leave()
        }
        thread.name = "cpsd.pcsc-monitor"
        thread.start()
    }

    /// Stops the monitor from any thread; the monitor thread ends soon after.
    func cancel() {
        let context = shared.withLock { state -> ContextHandle? in
            state.cancelled = true
            return state.context
        }
        context?.cancel()
        wakeUp.signal()
    }

    private var isCancelled: Bool { shared.withLock { $0.cancelled } }

    private func run() {
        var tracker = ReaderEventTracker()
        var backoff = Backoff()
        var serviceWasLost = false
        while !isCancelled {
            do {
                let context = try ContextHandle()
                guard adopt(context) else { return }
                if serviceWasLost {
                    emit(.serviceRestored)
                    serviceWasLost = false
                }
                backoff.reset()
                try watch(context, tracker: &tracker)
            } catch where error.code == .cancelled {
                return
            } catch {
                if isCancelled { return }
                // NO_SERVICE and friends: pcscd stopped or restarted. Handles and contexts are dead.
                if !serviceWasLost {
                    tracker.reset().forEach(emit)
                    emit(.serviceLost)
                    serviceWasLost = true
                }
                _ = wakeUp.wait(timeout: .now() + backoff.next())
            }
        }
    }

    /// Publishes the context so `cancel()` can interrupt it; false if already cancelled.
    private func adopt(_ context: ContextHandle) -> Bool {
        shared.withLock { state in
            state.context = context
            return !state.cancelled
        }
    }

    /// Waits for changes on the current readers until the reader list itself changes (then returns
    /// so the caller re-lists), or an error ends the context.
    private func watch(_ context: ContextHandle, tracker: inout ReaderEventTracker) throws(PCSCError) {
        while true {
            let names = try context.listReaders()
            var states = names.map { ReaderStateRecord(name: $0) }
            try context.getStatusChange(&states, timeoutMilliseconds: 0)
            tracker.update(states.map(\.readerStatus)).forEach(emit)
            if try !waitForChanges(context, states: &states, tracker: &tracker) { return }
        }
    }

    /// Blocks in SCardGetStatusChange. Returns false when readers were added or removed.
    private func waitForChanges(
        _ context: ContextHandle,
        states: inout [ReaderStateRecord],
        tracker: inout ReaderEventTracker
    ) throws(PCSCError) -> Bool {
        var plugAndPlay = ReaderStateRecord(name: PCSCConstant.plugAndPlayReader)
        plugAndPlay.currentState = UInt(states.count) << 16
        while true {
            for index in states.indices { states[index].acknowledge() }
            var watched = states + [plugAndPlay]
            do {
                try context.getStatusChange(&watched, timeoutMilliseconds: nil)
            } catch where error.code == .timeout {
                continue
            }
            plugAndPlay = watched.removeLast()
            let counters = Dictionary(uniqueKeysWithValues: states.map { ($0.name, $0.eventCounter) })
            if plugAndPlay.isChanged || watched.contains(where: \.isGone) { return false }
            let quick = Set(watched.filter { $0.isPresent && counters[$0.name] != $0.eventCounter }.map(\.name))
            states = watched
            tracker.update(states.map(\.readerStatus), quickChange: quick).forEach(emit)
        }
    }
}

/// Delays between attempts to reach pcscd: 100 ms doubling to 2 s.
struct Backoff {
    private var current: Double = 0.1
    mutating func next() -> DispatchTimeInterval {
        defer { current = min(current * 2, 2) }
        return .milliseconds(Int(current * 1000))
    }
    mutating func reset() { current = 0.1 }
}
