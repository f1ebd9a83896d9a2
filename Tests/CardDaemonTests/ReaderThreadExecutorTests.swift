@testable import CardDaemon
import Foundation
import Glibc
import Synchronization
import Testing

/// An actor on a reader's executor, whose critical sections notice any overlap.
private actor GuardedWork {
    nonisolated let executor: ReaderThreadExecutor
    private var inside = false
    private(set) var overlaps = 0
    private(set) var entries = 0
    /// Set when `holdUntilSomethingWaits` runs: readable without waiting for the actor.
    nonisolated let holding = Atomic<Bool>(false)

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(executor: ReaderThreadExecutor) { self.executor = executor }

    /// Some work that takes a while and must be alone.
    func critical(microseconds: UInt32 = 200) {
        if inside { overlaps += 1 }
        inside = true
        entries += 1
        usleep(microseconds)
        inside = false
    }

    /// Keeps the reader busy until other work waits for it (at most 10 s): no guess at how long that takes.
    func holdUntilSomethingWaits() {
        holding.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + .seconds(10)
        while executor.waitingWork == 0 && ContinuousClock.now < deadline { usleep(1_000) }
    }
}

/// Runs `body` on a thread of its own (not a task), as a p11-kit connection thread does.
private func onThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in Thread { continuation.resume(returning: body()) }.start() }
}

@Suite("Reader thread executor")
struct ReaderThreadExecutorTests {
    @Test("an idle reader runs a thread's call in place, on that thread; a busy one runs it on its own thread, in turn")
    func inPlaceWhenIdle() async throws {
        let executor = ReaderThreadExecutor(name: "test")
        let work = GuardedWork(executor: executor)
        let (caller, runner) = await onThreadOfItsOwn { () -> (UInt, UInt) in
            (UInt(pthread_self()), executor.runAndWait { UInt(pthread_self()) })
        }
        #expect(caller == runner)
        // Keep the reader busy with a job, then call: the call waits and runs on the reader's thread.
        async let busy: Void = work.holdUntilSomethingWaits()
        while !work.holding.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
        let (busyCaller, busyRunner) = await onThreadOfItsOwn { () -> (UInt, UInt) in
            (UInt(pthread_self()), executor.runAndWait { UInt(pthread_self()) })
        }
        await busy
        #expect(busyCaller != busyRunner)
        #expect(await work.overlaps == 0)
    }

    @Test("calls from many threads and the actor's own jobs never overlap")
    func neverOverlaps() async throws {
        let executor = ReaderThreadExecutor(name: "test")
        let work = GuardedWork(executor: executor)
        let (threads, callsPerThread, jobs) = (4, 50, 100)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    await onThreadOfItsOwn {
                        for _ in 0..<callsPerThread {
                            executor.runAndWait { work.assumeIsolated { $0.critical() } }
                        }
                    }
                }
            }
            for _ in 0..<jobs { group.addTask { await work.critical() } }
        }
        #expect(await work.entries == threads * callsPerThread + jobs)
        #expect(await work.overlaps == 0)
    }
}
