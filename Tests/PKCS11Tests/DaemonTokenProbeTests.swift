import CardTestSupport
import PKCS11
import SmartCardCore
import Testing
import VirtualCard

/// The fixture's own instruments, so that a test asserting "the card is not verified" or "no VERIFY was
/// sent" could fail: each probe is shown to see the opposite once.
@Suite("DaemonToken probes")
struct DaemonTokenProbeTests {
    @Test func theVerificationProbeSeesAVerifiedCard() async throws {
        try await onThread {
            let token = try DaemonToken()
            #expect(try !token.isCardVerified)
            // A VERIFY behind the daemon's back, as another PC/SC program could send it.
            let connection = try token.backend.connect(to: DaemonToken.readerName)
            defer { connection.disconnect(.leave) }
            #expect(try connection.transmit([0x00, 0x20, 0x00, 0x01, 0x04] + TestCards.pin) == [0x90, 0x00])
            #expect(try token.isCardVerified)
            #expect(token.verifyCount == 1, "the card counts every VERIFY it receives, whoever sends it")
        }
    }

    @Test func removalAndInsertionAreSeenByTheDaemon() async throws {
        try await onThread {
            let token = try DaemonToken()
            let first = try #require(token.token?.generation)
            try token.removeCard()
            #expect(token.token == nil)
            #expect(token.card == nil)
            try token.insertCard()
            #expect(try #require(token.token?.generation) > first)
            #expect(token.commands.isEmpty == false, "the daemon read the new card")
        }
    }
}
