import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// `/v1/authenticate` end to end: extension pairing, the PIN dialog (scripted pinentry speaking the
/// real Assuan protocol), the card's authentication key through pcscd, and a Web eID token that
/// OpenSSL verifies over exactly the bytes Web eID specifies.
@Suite("Bridge: card login", .serialized)
struct BridgeAuthenticateTests {
    @Test("a paired extension gets a web-eid:1.0 token whose signature covers SHA-256(origin) ‖ SHA-256(nonce)")
    func tokenVerifies() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["pin 1234"])
            let nonce = BridgeHarness.nonce()
            let origin = "https://localhost:8443"
            let answer = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(origin: origin, nonce: nonce), token: token)
            #expect(answer.status == 200, "\(answer.body)")
            #expect(Set(answer.json.keys) == ["unverifiedCertificate", "algorithm", "signature", "format", "appVersion"])
            #expect(answer.json["format"] as? String == "web-eid:1.0")
            #expect(answer.json["algorithm"] as? String == "RS256")
            let certificate = try #require(Data(base64Encoded: answer.json["unverifiedCertificate"] as? String ?? ""))
            #expect(Array(certificate) == stack.cards[0].state.authenticationCertificateDER)
            let signature = try #require(Data(base64Encoded: answer.json["signature"] as? String ?? ""))
            let verified = try WebEidOpenSSL.verify(
                certificateDER: certificate, signature: signature, origin: origin, nonce: nonce, in: bridge.home)
            #expect(verified.status == 0, "openssl: \(verified.output)")
            // The same signature must not verify for another origin: the binding is real.
            let other = try WebEidOpenSSL.verify(
                certificateDER: certificate, signature: signature, origin: "https://evil.example", nonce: nonce,
                in: bridge.home)
            #expect(other.status != 0)
            // The dialog named the origin, the holder and the tries left; the card spent no try.
            let dialog = try #require(bridge.dialogs().last)
            let text = dialog["desc"] as? String ?? ""
            #expect(dialog["command"] as? String == "GETPIN")
            #expect(text.contains(origin))
            #expect(text.contains(stack.cards[0].state.holder.idNat))
            #expect(text.contains("3 sur 3"))
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            #expect(bridge.daemon.log.contains("audit=signature"))
            #expect(bridge.daemon.log.contains("key=CPS_PRIV_AUT"))
        }
    }

    @Test("every authentication asks for the PIN again: the card forgets it after each signature")
    func pinPerOperation() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["pin 1234", "cancel"])
            let first = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(first.status == 200, "\(first.body)")
            let second = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(second.status == 403)
            #expect(second.errorCode == "ERR_USER_CANCELLED")
            #expect(bridge.dialogs().filter { $0["command"] as? String == "GETPIN" }.count == 2)
        }
    }

    @Test("a wrong PIN spends one try, is reported with the tries left, and is never retried")
    func wrongPIN() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["pin 9999", "pin 1234"])
            let wrong = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(wrong.status == 403)
            #expect(wrong.errorCode == "ERR_PIN_INVALID")
            #expect(wrong.retriesLeft == 2)
            #expect(stack.cards[0].state.pin.triesLeft == 2)
            #expect(bridge.dialogs().filter { $0["command"] as? String == "GETPIN" }.count == 1, "no second dialog")
            // The next attempt is the user's: its dialog warns about the tries left; success restores them.
            let right = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(right.status == 200, "\(right.body)")
            let warning = bridge.dialogs().last?["error"] as? String ?? ""
            #expect(warning.contains("2 essais"))
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a PIN of the wrong form is refused before the card: no try spent")
    func malformedPIN() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["pin 12a4"])
            let answer = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(answer.errorCode == "ERR_PIN_INVALID")
            #expect(answer.retriesLeft == nil)
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a blocked PIN is reported without showing a dialog")
    func blockedPIN() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["pin 0000", "pin 0000", "pin 0000", "pin 1234"])
            for expected in [2, 1, 0] {
                let answer = try bridge.call(
                    "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()),
                    token: token)
                #expect(answer.errorCode == (expected == 0 ? "ERR_PIN_BLOCKED" : "ERR_PIN_INVALID"))
            }
            #expect(stack.cards[0].state.pin.triesLeft == 0)
            let dialogsBefore = bridge.dialogs().count
            let blocked = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(blocked.errorCode == "ERR_PIN_BLOCKED")
            #expect(bridge.dialogs().count == dialogsBefore)
        }
    }

    @Test("the signing certificate is given after consent, without a PIN")
    func signingCertificate() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["ok", "no"])
            let body = #"{"requestId":"c1","origin":"https://localhost:8443"}"#
            let allowed = try bridge.call("POST", "/v1/signing-certificate", json: body, token: token)
            #expect(allowed.status == 200, "\(allowed.body)")
            let der = try #require(Data(base64Encoded: allowed.json["certificate"] as? String ?? ""))
            #expect(Array(der) == stack.cards[0].state.signatureCertificateDER)
            let refused = try bridge.call("POST", "/v1/signing-certificate", json: body, token: token)
            #expect(refused.errorCode == "ERR_USER_CANCELLED")
            #expect(bridge.dialogs().allSatisfy { $0["command"] as? String != "GETPIN" })
        }
    }
}

/// OpenSSL's view of a Web eID signature: RS256 over SHA-256(utf8 origin) ‖ SHA-256(utf8 nonce).
enum WebEidOpenSSL {
    static func verify(
        certificateDER: Data, signature: Data, origin: String, nonce: String, in directory: URL
    ) throws -> ToolRunner.Result {
        let dir = directory.appendingPathComponent("openssl-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try certificateDER.write(to: dir.appendingPathComponent("cert.der"))
        try signature.write(to: dir.appendingPathComponent("sig.bin"))
        try Data(origin.utf8).write(to: dir.appendingPathComponent("origin"))
        try Data(nonce.utf8).write(to: dir.appendingPathComponent("nonce"))
        return try ToolRunner.shell(
            """
            cd \(dir.path) && openssl x509 -inform DER -in cert.der -pubkey -noout > pub.pem \
            && { openssl dgst -sha256 -binary origin; openssl dgst -sha256 -binary nonce; } > data \
            && openssl dgst -sha256 -verify pub.pem -signature sig.bin data
            """)
    }
}
