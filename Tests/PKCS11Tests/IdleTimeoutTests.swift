import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// A client's kept PIN is zeroed after the idle timeout; an expired PIN never reaches the card.
@Suite("PIN idle timeout")
struct IdleTimeoutTests {
    @Test("after the timeout the next signature answers CKR_USER_NOT_LOGGED_IN without a VERIFY; a new login works")
    func expiry() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let key = try fixture.object(session, label: "CPS_PRIV_AUT", objectClass: CKO.privateKey)
            let input = [UInt8](repeating: 0x11, count: 32)
            _ = try fixture.sign(session, key: key, .rsaPKCS, input)

            // Used recently: not expired. The daemon verifies the kept PIN again inside the signature.
            let beforeRecentUse = fixture.cards.verifyCount
            fixture.connection.expireIdleSecrets(idleFor: .seconds(3600))
            _ = try fixture.sign(session, key: key, .rsaPKCS, input)
            #expect(fixture.cards.verifyCount == beforeRecentUse + 1, "the kept PIN was still there to verify")
            let verifies = fixture.cards.verifyCount

            fixture.connection.expireIdleSecrets(idleFor: .zero)
            let error = #expect(throws: PKCS11Error.self) { try fixture.sign(session, key: key, .rsaPKCS, input) }
            #expect(error?.code == .userNotLoggedIn)
            #expect(fixture.cards.verifyCount == verifies, "no VERIFY was sent with the expired (zeroed) PIN")
            #expect(fixture.cards.card?.state.pin.triesLeft == 3)

            try fixture.connection.login(session: session, userType: .user, pin: Fixture.secret(Fixture.pin))
            #expect(try fixture.sign(session, key: key, .rsaPKCS, input).count == 256)
        }
    }
}
