import CardIdentity
import CardTestSupport
import Crypto
import Foundation
import SwiftASN1
import Testing
import VirtualCard
import WebEid
import WebEidRelyingParty
import X509
import _CryptoExtras

/// Tokens whose signature is right but whose certificate must not be trusted, and the other algorithms.
@Suite("Web eID token validation: the certificate checks")
struct CertificateValidationTests {
    typealias Support = RelyingPartyTestSupport
    static let day: TimeInterval = 86_400

    static func cardPublicKey(_ state: CardState = TestCards.defaultState) throws -> Certificate.PublicKey {
        try Certificate(derEncoded: state.authenticationCertificateDER).publicKey
    }

    @Test("the card's key certified by a CA outside the IGC-Santé roots is refused")
    func untrustedRoot() async throws {
        let foreign = try ForeignCA()
        let nonce = ChallengeNonce.generate()
        let certificate = try foreign.issue(publicKey: try Self.cardPublicKey())
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce, certificateDER: certificate)
        await #expect(throws: RelyingPartyError(.untrustedCertificate, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
        // The same token is fine for a relying party that trusts that CA: only the chain was wrong.
        let trusting = WebEidTokenValidator(trustStore: foreign.trustStore, expectedOrigin: Support.siteA)
        #expect(try await trusting.validate(token: token, nonce: nonce).idNat == "899700218896")
    }

    @Test("an expired card is refused; at a date inside its validity the same token passes")
    func expired() async throws {
        var options = CardProvisioningOptions()
        options.notBefore = Date(timeIntervalSinceNow: -400 * Self.day)
        options.notAfter = Date(timeIntervalSinceNow: -30 * Self.day)
        let state = try TestCards.makeState(options)
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce, state: state)
        await #expect(throws: RelyingPartyError(.certificateExpired, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
        let then = Date(timeIntervalSinceNow: -100 * Self.day)
        #expect(try await Support.validator(now: { then }).validate(token: token, nonce: nonce).idNat == "899700218896")
    }

    @Test("before the certificate's notBefore the token is refused as not yet valid")
    func notYetValid() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce)
        let early = Date(timeIntervalSinceNow: -3 * Self.day)
        await #expect(throws: RelyingPartyError(.certificateNotYetValid, "")) {
            try await Support.validator(now: { early }).validate(token: token, nonce: nonce)
        }
    }

    @Test("the signature certificate (nonRepudiation only) is not an authentication certificate")
    func signatureCertificate() async throws {
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(
            origin: Support.siteA, nonce: nonce, certificateDER: TestCards.defaultState.signatureCertificateDER)
        await #expect(throws: RelyingPartyError(.keyUsage, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
    }

    @Test("an extended key usage without clientAuth is refused; no extended key usage at all is tolerated")
    func extendedKeyUsage() async throws {
        let foreign = try ForeignCA()
        let validator = WebEidTokenValidator(trustStore: foreign.trustStore, expectedOrigin: Support.siteA)
        let nonce = ChallengeNonce.generate()
        let emailOnly = try foreign.issue(
            publicKey: try Self.cardPublicKey(), extendedKeyUsage: try ExtendedKeyUsage([.emailProtection]))
        let refused = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce, certificateDER: emailOnly)
        await #expect(throws: RelyingPartyError(.extendedKeyUsage, "")) {
            try await validator.validate(token: refused, nonce: nonce)
        }
        let noEKU = try foreign.issue(publicKey: try Self.cardPublicKey(), extendedKeyUsage: nil)
        let tolerated = try WebEidTestTokens.token(origin: Support.siteA, nonce: nonce, certificateDER: noEKU)
        #expect(try await validator.validate(token: tolerated, nonce: nonce).idNat == "899700218896")
    }

    @Test("PS256 (RSA-PSS) over the same data is verified")
    func ps256() async throws {
        let nonce = ChallengeNonce.generate()
        let key = try _RSA.Signing.PrivateKey(derRepresentation: TestCards.defaultState.authenticationKeyDER)
        let data = WebEidSignedData.data(origin: Support.siteA, nonce: nonce)
        let signature = try key.signature(for: SHA256.hash(data: data), padding: .PSS)
        var token = WebEidToken.rs256(
            certificateDER: TestCards.defaultState.authenticationCertificateDER,
            signature: Array(signature.rawRepresentation), appVersion: WebEidTestTokens.appVersion)
        token.algorithm = "PS256"
        #expect(try await Support.validator().validate(token: token, nonce: nonce).idNat == "899700218896")
        token.algorithm = "RS256"
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await Support.validator().validate(token: token, nonce: nonce)
        }
    }

    @Test("ES256 with a raw R ‖ S signature from a P-256 key is verified; RS256 on that key is refused")
    func es256() async throws {
        let foreign = try ForeignCA()
        let validator = WebEidTokenValidator(trustStore: foreign.trustStore, expectedOrigin: Support.siteA)
        let key = P256.Signing.PrivateKey()
        let certificate = try foreign.issue(publicKey: .init(key.publicKey))
        let nonce = ChallengeNonce.generate()
        let signature = try key.signature(for: WebEidSignedData.data(origin: Support.siteA, nonce: nonce))
        var token = WebEidToken.rs256(
            certificateDER: certificate, signature: Array(signature.rawRepresentation),
            appVersion: WebEidTestTokens.appVersion)
        token.algorithm = "ES256"
        #expect(try await validator.validate(token: token, nonce: nonce).idNat == "899700218896")
        let otherOrigin = WebEidTokenValidator(trustStore: foreign.trustStore, expectedOrigin: Support.siteB)
        await #expect(throws: RelyingPartyError(.invalidSignature, "")) {
            try await otherOrigin.validate(token: token, nonce: nonce)
        }
        token.algorithm = "RS256"
        await #expect(throws: RelyingPartyError(.unsupportedAlgorithm, "")) {
            try await validator.validate(token: token, nonce: nonce)
        }
    }
}
