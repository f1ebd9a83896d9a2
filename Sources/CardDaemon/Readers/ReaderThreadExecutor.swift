import Dispatch
import Foundation
import Synchronization

/// A serial executor that runs every job on one dedicated thread of its own (STYLE.md rule 6).
///
/// A reader actor sits on it so that its PC/SC calls — some block for seconds (a PIN-pad VERIFY, a
/// slow RSA signature) — never occupy a thread of the cooperative pool or of a networking event loop.
/// Jobs run in the order they were enqueued. The thread waits on a condition variable when idle (no
/// polling) and ends after `shutdown()` once the queue is drained.
///
/// Besides the actor's jobs it runs plain calls from threads that are not tasks (`runAndWait`): a
/// PKCS#11 connection thread hands its call to the reader's thread and waits for the answer — one
/// hop, where a task started only to enter the actor would take three threads and a semaphore.
///
/// `@unchecked Sendable`: its state is guarded by `condition`, a condition variable the idle thread
/// really waits on (a `Mutex` has no wait).
final class ReaderThreadExecutor: SerialExecutor, @unchecked Sendable {
    /// What the thread runs: an actor job, or a call handed over by `runAndWait`.
    private enum Work {
        case job(UnownedJob)
        case call(@Sendable () -> Void)
    }

    /// Guards `jobs`, `head`, `stopping` and `thread`, and is what the idle thread waits on.
    private let condition = NSCondition()
    private var jobs: [Work] = []
    private var head = 0
    private var stopping = false
    private var thread: Thread?

    /// Starts the thread, named after the reader so it shows in `top -H` and in debuggers.
    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = "cpsd reader \(name)"
        thread.stackSize = 1 << 20
        condition.withLock { self.thread = thread }
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    /// Runs `body` on the reader's thread, in turn with the actor's jobs, and waits for its result. For
    /// dedicated threads only (a p11-kit connection thread, a bridge worker): it blocks the caller.
    func runAndWait<Output: Sendable>(_ body: @escaping @Sendable () -> Output) -> Output {
        precondition(condition.withLock { Thread.current != thread }, "runAndWait from the reader's own thread")
        let handoff = Handoff<Output>()
        append(.call { handoff.deliver(body()) })
        return handoff.wait()
    }

    private func append(_ work: Work) {
        condition.lock()
        jobs.append(work)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` work for code that runs on this executor's thread.
    func checkIsolated() {
        let thread = condition.withLock { self.thread }
        precondition(thread != nil && Thread.current == thread, "not on the reader's thread")
    }

    /// Ends the thread once every job already enqueued has run. Called from the owning actor's
    /// `deinit`: by then no job can be enqueued any more, since every job keeps its actor alive.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while let work = next() {
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
            case .call(let call): call()
            }
        }
    }

    /// The next work, or nil when stopping with nothing left to do.
    private func next() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if stopping {
                thread = nil
                return nil
            }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        if head > 64, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}

/// The answer of a call run on another thread, and the wait for it.
private final class Handoff<Output: Sendable>: Sendable {
    private let value = Mutex<Output?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func deliver(_ output: Output) {
        value.withLock { $0 = output }
        ready.signal()
    }

    func wait() -> Output {
        ready.wait()
        return value.withLock { $0.take()! }
    }
}
