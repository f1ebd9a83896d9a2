import CardIdentity
import CardTestSupport
import Crypto
import Foundation
import Testing
import WebEid
import WebEidRelyingParty

/// Tokens signed by the virtual card's authentication key through the CPS3 driver, as cpsd's bridge makes them.
@Suite("Web eID token validation: accepted tokens and the token-level refusals")
struct TokenValidatorTests {
    typealias Support = RelyingPartyTestSupport

    @Test("a card token for the expected origin and the stored nonce gives the holder's identity")
    func accepted() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        let identity = try await Support.validator().validate(tokenJSON: WebEidTestTokens.json(token), nonce: nonce)
        #expect(identity.idNat == "899700218896")
        #expect(identity.givenName == "ROBERT" && identity.surname == "SPECIALISTE0021889")
        #expect(identity.profession == "Médecin")
    }

    @Test("the origin is compared in serialized form: a validator configured as HTTPS://RP.EXAMPLE:8443 accepts")
    func originSpelling() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        let validator = try Support.validator(origin: try WebOrigin(validating: "HTTPS://RP.EXAMPLE:8443"))
        #expect(try await validator.validate(token: token, nonce: nonce).idNat == "899700218896")
    }

    @Test("a token made for origin B is refused by the relying party of origin A")
    func otherOrigin() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteB, nonce: nonce)
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await Support.validator(origin: Support.siteA).validate(token: token, nonce: nonce)
        }
    }

    @Test("a token signed over another nonce is refused")
    func otherNonce() async throws {
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: ChallengeNonce.generate())
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await Support.validator().validate(token: token, nonce: ChallengeNonce.generate())
        }
    }

    @Test("a replayed token fails: its nonce was taken out of the store by the first login")
    func replay() async throws {
        let store = ChallengeNonceStore()
        let validator = try Support.validator()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: store.issue(session: "s"))
        _ = try await validator.validate(token: token, nonce: try store.consume(session: "s"))
        #expect(throws: RelyingPartyError(.nonceNotFound, "")) { try store.consume(session: "s") }
    }

    @Test("an expired nonce is refused before the token is looked at")
    func expiredNonce() throws {
        let clock = ManualClock()
        let store = ChallengeNonceStore(now: { clock.now })
        _ = store.issue(session: "s")
        clock.advance(ChallengeNonceStore.defaultLifetime + 1)
        #expect(throws: RelyingPartyError(.nonceExpired, "")) { try store.consume(session: "s") }
    }

    @Test("one flipped bit anywhere in the signature is refused")
    func tamperedSignature() async throws {
        let nonce = ChallengeNonce.generate()
        var token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        var signature = try token.signatureBytes()
        for index in [0, 128, 255] {
            signature[index] ^= 0x01
            token.signature = Data(signature).base64EncodedString()
            await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
                try await Support.validator().validate(token: token, nonce: nonce)
            }
            signature[index] ^= 0x01
        }
        // A truncated signature too.
        token.signature = Data(signature.dropLast()).base64EncodedString()
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
    }

    @Test(
        "formats other than web-eid:1.x are refused; web-eid:1.1 is accepted",
        arguments: [("web-eid:1.1", true), ("web-eid:1", true), ("web-eid:2.0", false), ("", false), ("WEB-EID:1.0", false)])
    func format(format: String, accepted: Bool) async throws {
        let nonce = ChallengeNonce.generate()
        var token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        token.format = format
        if accepted {
            _ = try await Support.validator().validate(token: token, nonce: nonce)
        } else {
            await #expect(throws: RelyingPartyError(.unsupportedFormat, "")) {
                try await Support.validator().validate(token: token, nonce: nonce)
            }
        }
    }

    @Test("algorithms not verified, or not fitting the RSA key, are refused", arguments: ["RS384", "none", "HS256", "ES256", ""])
    func algorithm(name: String) async throws {
        let nonce = ChallengeNonce.generate()
        var token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        token.algorithm = name
        await #expect(throws: RelyingPartyError(.unsupportedAlgorithm, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
    }

    @Test("an RS256 signature labelled PS256 does not verify")
    func algorithmMislabelled() async throws {
        let nonce = ChallengeNonce.generate()
        var token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        token.algorithm = "PS256"
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
    }

    @Test("token length: under 100 or over 10 000 bytes is refused before parsing")
    func length() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        var object = try #require(try JSONSerialization.jsonObject(with: token.jsonData()) as? [String: String])
        object["padding"] = String(repeating: "x", count: 10_000)
        let oversize = Array(try JSONSerialization.data(withJSONObject: object))
        await #expect(throws: RelyingPartyError(.tokenLength, "")) {
            try await Support.validator().validate(tokenJSON: oversize, nonce: nonce)
        }
        await #expect(throws: RelyingPartyError(.tokenLength, "")) {
            try await Support.validator().validate(tokenJSON: Array(#"{"format":"web-eid:1.0"}"#.utf8), nonce: nonce)
        }
        // A modest unknown field is ignored, as Web eID validators do.
        object["padding"] = "ignored"
        let padded = Array(try JSONSerialization.data(withJSONObject: object))
        #expect(try await Support.validator().validate(tokenJSON: padded, nonce: nonce).idNat == "899700218896")
    }

    @Test("malformed JSON, missing or mistyped fields, and non-base64 fields are refused")
    func malformed() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        let json = String(decoding: token.jsonData(), as: UTF8.self)
        let broken = [
            String(json.dropLast()),  // truncated
            json.replacingOccurrences(of: #""format":"web-eid:1.0","#, with: ""),  // a field missing
            json.replacingOccurrences(of: #""algorithm":"RS256""#, with: #""algorithm":256"#),  // not a string
            "[" + json + "]",  // not an object
            json.replacingOccurrences(of: "\"", with: "'"),
        ]
        for text in broken {
            await #expect(throws: RelyingPartyError(.malformedToken, ""), "\(text.prefix(60))") {
                try await Support.validator().validate(tokenJSON: Array(text.utf8), nonce: nonce)
            }
        }
        var notBase64 = token
        notBase64.signature = "not*base64*" + String(repeating: "A", count: 40)
        await #expect(throws: RelyingPartyError(.malformedToken, "")) {
            try await Support.validator().validate(token: notBase64, nonce: nonce)
        }
        var garbageCertificate = token
        garbageCertificate.unverifiedCertificate = Data("not a certificate".utf8).base64EncodedString()
        await #expect(throws: RelyingPartyError(.malformedCertificate, "")) {
            try await Support.validator().validate(token: garbageCertificate, nonce: nonce)
        }
    }
}
