import Foundation

/// A serial executor that runs every job on one dedicated thread of its own (STYLE.md rule 6).
///
/// A reader actor sits on it so that its PC/SC calls — some block for seconds (a PIN-pad VERIFY, a
/// slow RSA signature) — never occupy a thread of the cooperative pool or of a networking event loop.
/// Jobs run in the order they were enqueued. The thread waits on a condition variable when idle (no
/// polling) and ends after `shutdown()` once the queue is drained.
final class ReaderThreadExecutor: SerialExecutor, @unchecked Sendable {
    /// Guards `jobs`, `head`, `stopping` and `thread`, and is what the idle thread waits on.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
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
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
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
        while let job = next() {
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    /// The next job, or nil when stopping with nothing left to do.
    private func next() -> UnownedJob? {
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
