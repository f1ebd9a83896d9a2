import Foundation
import PKCS11
import SmartCardCore

/// Runs a test's body on a dedicated thread, still inside the test's task.
///
/// The daemon's cards blocks its caller until a reader actor answers, and hands the work over through a
/// task of the cooperative pool: a test body blocking a pool thread could starve that very task (the pool
/// has one thread per core). Here the body runs on a thread of its own (a task executor preference), so
/// it may block; and because it stays in the test's task, `#expect` failures are the test's own (from a
/// bare `Thread` they would be reported against no test). `DaemonToken` moves each card operation on
/// to a plain thread, as the daemon's connection threads call its cards.
@discardableResult
func onThread<R: Sendable>(_ body: @Sendable () throws -> R) async throws -> R {
    let executor = DedicatedThreadExecutor()
    defer { executor.shutdown() }
    return try await withTaskExecutorPreference(executor) { try body() }
}

/// True when the caller may block: a test body under `onThread`, or a thread that is not in a task.
var mayBlock: Bool {
    Thread.current.threadDictionary[DedicatedThreadExecutor.marker] != nil || !isInsideTask
}

/// True when the caller runs inside a Swift task.
var isInsideTask: Bool { withUnsafeCurrentTask { $0 != nil } }

/// A task executor with one thread of its own, which runs the jobs it is given in order.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    static let marker = "cpsd.tests.dedicated-thread"
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "PKCS11Tests body"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    /// The thread ends once its queue is drained.
    func shutdown() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    private func run() {
        Thread.current.threadDictionary[Self.marker] = true
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `body` on a plain thread (no task) and waits for it, when the caller is in a task: the daemon's
/// cards refuses callers inside a task (its blocking bridge). Callers that are not in a task (the
/// socket server's connection threads) run `body` themselves, exactly as in the daemon.
func outsideAnyTask<R: Sendable>(_ body: @escaping @Sendable () throws(TokenError) -> R) throws(TokenError) -> R {
    guard isInsideTask else { return try body() }
    let box = ResultBox<R>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        do throws(TokenError) { box.result = .success(try body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    thread.start()
    done.wait()
    return try box.result!.get()
}

/// Same, for what cannot fail.
func outsideAnyTask(_ body: @escaping @Sendable () -> Void) {
    let _: Void? = try? outsideAnyTask { () throws(TokenError) in body() }
}

/// Where a plain thread leaves its result; written before the semaphore is signalled, read after.
private final class ResultBox<R>: @unchecked Sendable {
    var result: Result<R, TokenError>?
}

/// A copy of a secret the caller only lends, for an operation run on another thread; zeroed when the
/// copy dies (`SecretBytes.deinit`).
final class SecretCopy: Sendable {
    let secret: SecretBytes
    init(_ source: borrowing SecretBytes) {
        secret = source.withBytes { bytes in
            SecretBytes(count: bytes.count) { target in
                for index in bytes.indices { target[index] = bytes[index] }
            }
        }
    }
}

/// Polls `condition` until it holds: the registry converges on card events asynchronously. Blocks: call
/// it where `mayBlock`. The deadline only bounds a failing test; nothing is asserted about time.
func waitUntil(_ what: String, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.005)
    }
    throw FixtureError("timed out waiting for \(what)")
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
