import CardTestSupport
import Foundation
import PCSC
import SmartCardCore
import Testing
import VirtualCard

/// Another PC/SC client resetting the card while cpsd works, as a second middleware that ends each use of the
/// card with SCARD_RESET_CARD does. pcscd tells the other handles in two ways: SCARD_W_RESET_CARD, or — for a
/// handle that connected or reconnected while the reset was under way — SCARD_E_PROTO_MISMATCH on its next
/// command (the card's protocol is no longer negotiated). Either way the command never reached the card.
@Suite("cpsd beside a client that resets the card")
struct DaemonCardResetTests {
    @Test("a client resetting the card over and over: every signature through cpsd succeeds, no try is spent")
    func signaturesSurviveResets() async throws {
        // No verified hold: every signature takes and ends its own transaction, so the resets fall between them
        // (with a hold, the resetter would wait for the hold's end).
        try await DaemonTest.withConfiguredDaemon("verified-hold-ms = 0\n") { stack, daemon in
            let (client, handle) = try DaemonPINSafetyTests.loggedInClient(daemon)
            defer { client.kill() }

            // The resetter gets the card only between cpsd's transactions (pcscd makes it wait for them): the
            // client pauses a little between signatures, and signs until the card was reset 30 times. Often
            // enough, a reset is under way as cpsd reconnects after the previous one (before cpsd took that in
            // stride, 5 runs of 5 failed here).
            let resetter = CardResetter(reader: stack.readerName(0))
            resetter.start()
            var outcomes: [String] = []
            while resetter.resets < 30 && outcomes.count < 3000 {
                outcomes.append(try DaemonPINSafetyTests.sign(client, handle))
                try await Task.sleep(for: .milliseconds(3))
            }
            let reset = await resetter.stop()

            #expect(reset.count >= 30, "the resetter reset the card only \(reset.count) times: \(reset.failures)")
            let failed = outcomes.enumerated().filter { $0.element != "ok" }
            #expect(failed.isEmpty, "\(failed.count) of \(outcomes.count) signatures failed: \(failed.prefix(5))\n\(daemon.logTail())")
            #expect(!daemon.log.contains("protocol mismatch"), "\(daemon.logTail())")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}

/// Connects to the card and disconnects with SCARD_RESET_CARD in a loop, on a thread of its own (never the
/// concurrency pool), until `stop`.
final class CardResetter: @unchecked Sendable {
    private let reader: String
    private let lock = NSLock()
    private var stopRequested = false
    private var resetCount = 0
    private var failures: [String] = []
    private var finished = false
    private var waiter: CheckedContinuation<Void, Never>?

    /// `reader` on the shared stack, whose pcscd socket `RealStack` put in this process's environment.
    init(reader: String) {
        self.reader = reader
    }

    func start() {
        let thread = Thread { [self] in
            let backend = PCSCBackend()
            while !lock.withLock({ stopRequested }) {
                do {
                    let connection = try backend.connect(to: reader)
                    connection.disconnect(.reset)
                    lock.withLock { resetCount += 1 }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
                usleep(1_000)
            }
            let continuation = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                finished = true
                return waiter
            }
            continuation?.resume()
        }
        thread.start()
    }

    var resets: Int { lock.withLock { resetCount } }

    /// Stops the loop and returns how many resets it made, and what failed.
    func stop() async -> (count: Int, failures: [String]) {
        lock.withLock { stopRequested = true }
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Bool in
                if !finished { waiter = continuation }
                return finished
            }
            if done { continuation.resume() }
        }
        return lock.withLock { (resetCount, failures) }
    }
}
