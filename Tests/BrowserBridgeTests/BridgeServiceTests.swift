import BrowserBridge
import Crypto
import Foundation
import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// The bridge's request service in process, on the real card service and a virtual CPS3: pairing,
/// status, the Web eID authentication, and the PIN rules (asked once, never retried, never left on the card).
@Suite("Bridge service in process")
struct BridgeServiceTests {
    @Test("unpaired, an extension learns only that the bridge is there, and may not use the card")
    func unpaired() async throws {
        try await BridgeServiceHarness.run { bridge in
            let status = await bridge.call("POST", "/v1/status", json: "{}")
            #expect(status.status == 200)
            #expect(status.json["paired"] as? Bool == false)
            #expect(status.json["readers"] == nil)
            let login = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: BridgeServiceHarness.nonce()))
            #expect(login.status == 401)
            #expect(Self.errorCode(login.json) == "ERR_UNAUTHORIZED_CALLER")
            #expect(bridge.dialogs.questions.isEmpty)
        }
    }

    @Test("the pairing code shown in the dialog gives a token; paired, the status lists the reader and the card type")
    func pairingAndStatus() async throws {
        try await BridgeServiceHarness.run { bridge in
            let token = try await bridge.pair()
            let status = await bridge.call("POST", "/v1/status", json: "{}", token: token)
            #expect(status.json["paired"] as? Bool == true)
            let readers = try #require(status.json["readers"] as? [[String: Any]])
            #expect(readers.count == 1)
            #expect(readers.first?["name"] as? String == BridgeServiceHarness.reader)
            #expect(readers.first?["cardPresent"] as? Bool == true)
            #expect(readers.first?["cardType"] as? String == "CPS3")
            // A wrong token is not a pairing.
            let stranger = await bridge.call("POST", "/v1/status", json: "{}", token: String(repeating: "A", count: 43))
            #expect(stranger.json["paired"] as? Bool == false)
        }
    }

    @Test("authenticate: the authentication key signs SHA-256(origin) ‖ SHA-256(nonce), no try spent, card left unverified")
    func authenticate() async throws {
        try await BridgeServiceHarness.run { bridge in
            let token = try await bridge.pair()
            bridge.dialogs.script([.pin(TestPIN.right)])
            let (origin, nonce) = ("https://localhost:8443", BridgeServiceHarness.nonce())
            let answer = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(origin: origin, nonce: nonce),
                token: token)
            #expect(answer.status == 200, "\(answer.json)")
            #expect(answer.json["format"] as? String == "web-eid:1.0")
            let certificate = try #require(Data(base64Encoded: answer.json["unverifiedCertificate"] as? String ?? ""))
            #expect(Array(certificate) == bridge.card.state.authenticationCertificateDER)
            let signature = try #require(Data(base64Encoded: answer.json["signature"] as? String ?? ""))
            let key = try #require(_RSA.Signing.PublicKey(try Certificate(derEncoded: Array(certificate)).publicKey))
            let signed = Data(SHA256.hash(data: Data(origin.utf8))) + Data(SHA256.hash(data: Data(nonce.utf8)))
            #expect(key.isValidSignature(.init(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5))
            let otherOrigin = Data(SHA256.hash(data: Data("https://evil.example".utf8))) + Data(SHA256.hash(data: Data(nonce.utf8)))
            #expect(!key.isValidSignature(.init(rawRepresentation: signature), for: otherOrigin, padding: .insecurePKCS1v1_5))
            // One dialog, naming the origin and the tries; no try spent; the card holds no verification now.
            #expect(bridge.dialogs.questions.map(\.origin) == [origin])
            #expect(bridge.dialogs.questions.first?.triesLeft == 3)
            #expect(bridge.card.state.pin.triesLeft == 3)
            #expect(try Self.cardIsVerified(bridge) == false)
        }
    }

    @Test("a wrong PIN costs exactly one try, is reported with the tries left, and is never retried")
    func wrongPIN() async throws {
        try await BridgeServiceHarness.run { bridge in
            let token = try await bridge.pair()
            bridge.dialogs.script([.pin(TestPIN.wrong), .pin(TestPIN.right)])
            let answer = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: BridgeServiceHarness.nonce()),
                token: token)
            #expect(answer.status == 403)
            #expect(Self.errorCode(answer.json) == "ERR_PIN_INVALID")
            #expect((answer.json["error"] as? [String: Any])?["retriesLeft"] as? Int == 2)
            #expect(bridge.dialogs.questions.count == 1)
            #expect(bridge.card.state.pin.triesLeft == 2)
            // The next login shows the spent try in its dialog, and the right PIN restores the counter.
            let next = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: BridgeServiceHarness.nonce()),
                token: token)
            #expect(next.status == 200)
            #expect(bridge.dialogs.questions.map(\.triesLeft) == [3, 2])
            #expect(bridge.card.state.pin.triesLeft == 3)
        }
    }

    @Test("a cancelled dialog, a replayed challenge and a web page's origin reach no card")
    func refusals() async throws {
        try await BridgeServiceHarness.run { bridge in
            let token = try await bridge.pair()
            let nonce = BridgeServiceHarness.nonce()
            bridge.dialogs.script([.cancel, .pin(TestPIN.right)])
            let cancelled = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: nonce), token: token)
            #expect(Self.errorCode(cancelled.json) == "ERR_USER_CANCELLED")
            let signed = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: nonce), token: token)
            #expect(signed.status == 200)
            let replayed = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: nonce), token: token)
            #expect(Self.errorCode(replayed.json) == "ERR_INVALID_ARGUMENT")
            let page = await bridge.call(
                "POST", "/v1/authenticate", json: BridgeServiceHarness.authenticateBody(nonce: BridgeServiceHarness.nonce()),
                token: token, origin: "https://localhost:8443")
            #expect(Self.errorCode(page.json) == "ERR_CALLER_ORIGIN")
            #expect(bridge.dialogs.questions.count == 2)
            #expect(bridge.card.state.pin.triesLeft == 3)
        }
    }

    static func errorCode(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }

    /// VERIFY without data from a connection of the test's own: 9000 only while the PIN is verified.
    static func cardIsVerified(_ bridge: BridgeServiceHarness) throws -> Bool {
        let connection = try bridge.backend.connect(to: BridgeServiceHarness.reader)
        defer { connection.disconnect(.leave) }
        return try connection.transmit([0x00, 0x20, 0x00, 0x01]) == [0x90, 0x00]
    }
}

enum TestPIN {
    static let right: [UInt8] = Array("1234".utf8)
    static let wrong: [UInt8] = Array("9999".utf8)
}
