import CardTestSupport
import Foundation
import Glibc
import PCSC
import SmartCardCore
import Testing
import VirtualCard

/// cpsd's verified hold (`verified-hold-ms`) on the real stack: after a client's signature the card stays
/// verified inside cpsd's PC/SC transaction, which pcscd gives nobody else; it ends with a reset, by itself
/// or when cpsd dies.
@Suite("the verified hold keeps everyone else out")
struct DaemonVerifiedHoldTests {
    /// Runs `body` with one card and a cpsd whose hold lasts 5 s (longer than any step of these tests).
    static func withHoldingDaemon(_ body: (RealStack, DaemonProcess) throws -> Void) async throws {
        try await DaemonTest.withConfiguredDaemon("verified-hold-ms = 5000\n", body)
    }

    /// VERIFY without data sent outside any transaction, as a careless PC/SC client would: pcscd holds it
    /// (and the connection) back while cpsd's transaction lasts, then the card answers `63C3` (not
    /// verified, 3 tries) or `9000` (verified). The reset that ends the hold (cpsd's, or pcscd's for a dead
    /// cpsd) may be reported to this connection on its first command, which then did not reach the card:
    /// it reconnects and asks again, as any PC/SC client must.
    static func bareVerifyStatus(_ stack: RealStack) throws -> [UInt8] {
        let connection = try PCSCBackend().connect(to: stack.readerName(0))
        defer { connection.disconnect(.leave) }
        return try connection.restartingAfterResets { () throws(CardError) in
            try connection.transmit([0x00, 0x20, 0x00, 0x01])
        }
    }

    @Test("during the hold no other process reaches the card; after it, the card is reset")
    func othersWaitAndFindTheCardReset() async throws {
        try await Self.withHoldingDaemon { stack, daemon in
            let (client, handle) = try DaemonPINSafetyTests.loggedInClient(daemon)
            defer { client.kill() }
            #expect(try DaemonPINSafetyTests.sign(client, handle) == "ok")
            #expect(daemon.log.contains("verified hold started"), "\(daemon.logTail())")
            // Even a client that takes no transaction gets the card only once the hold ended, reset.
            #expect(try Self.bareVerifyStatus(stack) == [0x63, 0xC3], "another process found the card verified")
            #expect(daemon.log.contains("verified hold ended: its time is up"), "\(daemon.logTail())")
            // A well-behaved client takes a transaction: it finds a reset card too.
            #expect(try !DaemonPINSafetyTests.isVerified(stack, reference: 0x01), "the hold ended without a reset")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            // The client signs again: cpsd verifies its kept PIN again (the card was reset meanwhile).
            #expect(try DaemonPINSafetyTests.sign(client, handle) == "ok")
        }
    }

    @Test("cpsd killed during the hold: pcscd resets the card, nobody finds it verified")
    func cpsdKilledDuringTheHold() async throws {
        try await Self.withHoldingDaemon { stack, daemon in
            let (client, handle) = try DaemonPINSafetyTests.loggedInClient(daemon)
            defer { client.kill() }
            #expect(try DaemonPINSafetyTests.sign(client, handle) == "ok")
            #expect(daemon.log.contains("verified hold started"), "\(daemon.logTail())")
            #expect(!daemon.log.contains("verified hold ended"), "the hold ended before the kill: \(daemon.logTail())")
            Glibc.kill(daemon.pid, SIGKILL)
            // Its timer died with it: only pcscd's reset of a dead client's handle can leave the card unverified.
            #expect(try Self.bareVerifyStatus(stack) == [0x63, 0xC3], "cpsd died holding a verified card")
            #expect(!daemon.log.contains("verified hold ended"))
        }
    }
}
