import Dispatch
import Foundation
import Glibc
import Synchronization

/// A serial executor that runs every job on one dedicated thread of its own (STYLE.md rule 6).
///
/// A reader actor sits on it so that its PC/SC calls — some block for seconds (a PIN-pad VERIFY, a
/// slow RSA signature) — never occupy a thread of the cooperative pool or of a networking event loop.
/// Jobs run in the order they were enqueued. The thread waits on a condition variable when idle (no
/// polling) and ends after `shutdown()` once the queue is drained.
///
/// Besides the actor's jobs it runs plain calls from threads that are not tasks (`runAndWait`): a
/// PKCS#11 connection thread's call runs at once on that very thread when the reader is idle (no job
/// running or waiting), holding the executor while it runs so that nothing else of the reader can;
/// when the reader is busy, the call waits its turn on the reader's thread. Either way no task is
/// started only to enter the actor (that took three threads and a semaphore per signature).
///
/// `@unchecked Sendable`: its state is guarded by `condition`, a condition variable the idle thread
/// really waits on (a `Mutex` has no wait).
final class ReaderThreadExecutor: SerialExecutor, @unchecked Sendable {
    /// What the thread runs: an actor job, or a call handed over by `runAndWait`.
    private enum Work {
        case job(UnownedJob)
        case call(@Sendable () -> Void)
    }

    /// Guards `jobs`, `head`, `stopping`, `readerThreadID` and `runner`, and is what the idle thread waits on.
    private let condition = NSCondition()
    private var jobs: [Work] = []
    private var head = 0
    private var stopping = false
    /// The reader's own thread, once its loop runs.
    private var readerThreadID: pthread_t?
    /// The thread running this executor's work now (the reader's, or a caller's running in place); nil when idle.
    private var runner: pthread_t?

    /// Starts the thread, named after the reader so it shows in `top -H` and in debuggers.
    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = "cpsd reader \(name)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    /// Runs `body` as this reader's work and returns its result: in place when the reader is idle, else on
    /// the reader's thread in turn with the actor's jobs. For dedicated threads only (a p11-kit connection
    /// thread, a bridge worker): it blocks the caller.
    func runAndWait<Output: Sendable>(_ body: @escaping @Sendable () -> Output) -> Output {
        let caller = pthread_self()
        condition.lock()
        precondition(readerThreadID.map { pthread_equal($0, caller) == 0 } ?? true, "runAndWait from the reader's own thread")
        if runner == nil, head == jobs.count {
            // Idle: run here, holding the executor; jobs enqueued meanwhile wait for `release`.
            runner = caller
            condition.unlock()
            defer { release() }
            return body()
        }
        let handoff = Handoff<Output>()
        jobs.append(.call { handoff.deliver(body()) })
        condition.signal()
        condition.unlock()
        return handoff.wait()
    }

    /// The running work is over: the reader's thread may take the next.
    private func release() {
        condition.lock()
        runner = nil
        condition.signal()
        condition.unlock()
    }

    private func append(_ work: Work) {
        condition.lock()
        jobs.append(work)
        condition.signal()
        condition.unlock()
    }

    /// How many jobs and calls wait for the reader now (tests use it to know a call was queued).
    var waitingWork: Int { condition.withLock { jobs.count - head } }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` work for code that runs this executor's work now: on the reader's thread, or
    /// a caller running in place.
    func checkIsolated() {
        let current = pthread_self()
        let isRunner = condition.withLock { runner.map { pthread_equal($0, current) != 0 } ?? false }
        precondition(isRunner, "not running this reader's work")
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
        condition.withLock { readerThreadID = pthread_self() }
        while let work = next() {
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
            case .call(let call): call()
            }
            release()
        }
    }

    /// The next work, taken with the executor held, or nil when stopping with nothing left to do.
    private func next() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count || runner != nil {
            if stopping, head == jobs.count, runner == nil {
                return nil
            }
            condition.wait()
        }
        runner = readerThreadID
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
