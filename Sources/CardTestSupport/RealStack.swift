import ErrorShape
package import Foundation
package import PCSC
package import SmartCardCore
package import VirtualCard
package import VirtualReaderStack
import Synchronization

/// The real PC/SC stack of this test process: a private pcscd with two vpcd readers and a virtual
/// CPS3 in each (`insertFreshCard(TestCards.cps4State(), reader:)` or `insertFreshCards` give CPS4s or a
/// mixed pair), started on first use and shared by every test that talks to pcscd through
/// libpcsclite (the client library reads PCSCLITE_CSOCK_NAME once per process, so there is one such
/// stack per process). Tests take it one at a time: some restart pcscd or pull cards.
///
/// The stack dies with the test process (VirtualStack's watchdog), even when the process crashes.
package final class RealStack: Sendable {
    package static let readerCount = 2
    package let stack: VirtualStack
    /// The card in each reader. Tests hold the stack one at a time (`withStack`); the lock only makes that
    /// checkable.
    private let inserted: Mutex<[CPS3Card]>
    package var cards: [CPS3Card] { inserted.withLock { $0 } }

    private init() throws {
        let directory = URL(fileURLWithPath: "/tmp/cpsd-rs-\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stack = VirtualStack(directory: directory, readerCount: Self.readerCount)
        setenv("PCSCLITE_CSOCK_NAME", stack.socketPath, 1)
        let cards = (0..<Self.readerCount).map { _ in TestCards.card() }
        inserted = Mutex(cards)
        try stack.start(cards: cards)
    }

    private static let shared = Result { try RealStack() }
    private static let lock = AsyncLock()

    /// Runs `body` with exclusive use of the stack, after making sure pcscd runs and every reader holds
    /// a powered CPS3 (a test that pulled a card, stopped pcscd or used a CPS4 does not leak into the next one).
    package static func withStack<R>(_ body: (RealStack) async throws -> R) async throws -> R {
        await lock.acquire()
        do {
            let stack = try shared.get()
            try stack.restore()
            let result = try await body(stack)
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    package func readerName(_ index: Int) -> String { stack.readerNames[index] }

    /// The environment a child process needs to reach this pcscd.
    package var environment: [String: String] { stack.environment }

    /// Puts a new card made from `state` in reader `index` and waits until pcscd reports it present.
    package func insertFreshCard(_ state: CardState = TestCards.defaultState, reader index: Int) throws {
        let card = TestCards.card(state)
        stack.removeCard(reader: index)
        try waitForPresence(reader: index, present: false)
        inserted.withLock { $0[index] = card }
        stack.insertCard(card, reader: index)
        try waitForPresence(reader: index, present: true)
    }

    /// Puts `card` (e.g. one with its own fault injector) in reader `index` and waits until pcscd reports it.
    package func insertCard(_ card: CPS3Card, reader index: Int) throws {
        stack.removeCard(reader: index)
        try waitForPresence(reader: index, present: false)
        inserted.withLock { $0[index] = card }
        stack.insertCard(card, reader: index)
        try waitForPresence(reader: index, present: true)
    }

    /// Puts a new card made from `states[i]` in reader `i` for each state given, e.g. a mixed pair
    /// `[TestCards.defaultState, TestCards.cps4State()]` (a CPS3 in reader 0, a CPS4 in reader 1).
    package func insertFreshCards(_ states: [CardState]) throws {
        precondition(states.count <= Self.readerCount, "more cards than readers")
        for (index, state) in states.enumerated() { try insertFreshCard(state, reader: index) }
    }

    /// Pulls the card of reader `index`; with `wait`, returns once pcscd reports the reader empty.
    package func removeCard(reader index: Int, wait: Bool = true) throws {
        stack.removeCard(reader: index)
        if wait { try waitForPresence(reader: index, present: false) }
    }

    /// Puts the card of reader `index` back and waits until pcscd reports it present.
    package func reinsertCard(reader index: Int) throws {
        stack.insertCard(cards[index], reader: index)
        try waitForPresence(reader: index, present: true)
    }

    /// Waits (up to 5 s) until pcscd says reader `index` has, or has not, a card. Test support only: the
    /// product never polls.
    package func waitForPresence(reader index: Int, present: Bool) throws {
        let name = readerName(index)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let status = try? PCSCBackend().listReaders().first(where: { $0.name == name }),
                status.cardPresent == present
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw RealStackError("reader \(name) did not become \(present ? "present" : "empty"):\n\(stack.logTail())")
    }

    private func restore() throws {
        if (try? PCSCBackend().listReaders()) == nil { try stack.startPCSCD() }
        for index in 0..<Self.readerCount {
            // A test that asked for a CPS4 does not hand it to the next one, which expects the default CPS3.
            if cards[index].generation != .cps3 {
                try insertFreshCard(reader: index)
                continue
            }
            if !stack.waitUntilPowered(reader: index, timeout: .milliseconds(1)) {
                stack.insertCard(cards[index], reader: index)
            }
            try waitForPresence(reader: index, present: true)
        }
    }
}

/// The test stack (or a tool a test builds) could not be set up. One code, so `init` takes the reason; the
/// description is the reason alone, as test failures print it.
package struct RealStackError: CodedError {
    package enum Code: String, ErrorCode {
        case setupFailed = "setup failed"
    }

    package let code: Code
    package let reason: String

    package init(_ reason: String) {
        self.code = .setupFailed
        self.reason = reason
    }

    package var description: String { reason }
}

/// A FIFO lock for async tests (the real stack, the browsers).
package actor AsyncLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    package init() {}

    package func acquire() async {
        if held {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            held = true
        }
    }

    package func release() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}
