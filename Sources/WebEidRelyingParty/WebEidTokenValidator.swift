package import CardIdentity
import Crypto
package import Foundation
package import WebEid
import X509
import _CryptoExtras

/// Validates a `web-eid:1.x` authentication token for one site (browser-and-psc.md §2.6) and returns who
/// signed it. The origin and the nonce come from the server, never from the token: the signature is
/// checked over data rebuilt from ``expectedOrigin`` and the nonce the caller took out of its
/// ``ChallengeNonceStore`` for this session, so a token made for another site or another challenge fails.
///
/// Steps: length and JSON, format, algorithm, certificate (validity, key usages, chain to the configured
/// IGC-Santé roots: ``HolderCertificateValidator``), signature. **No OCSP/CRL check** (step 4): see
/// ``HolderCertificateValidator``.
package struct WebEidTokenValidator: Sendable {
    /// Web eID's bounds on the token text.
    package static let tokenLengthRange = 100...10_000
    /// Algorithms verified: CPS3 makes RS256; PS256 and ES256 cost nothing more and keep the validator
    /// usable for the other Web eID cards.
    package static let supportedAlgorithms = ["RS256", "PS256", "ES256"]

    package let expectedOrigin: WebOrigin
    private let certificates: HolderCertificateValidator
    private let now: @Sendable () -> Date

    package init(trustStore: TrustStore, expectedOrigin: WebOrigin, now: @escaping @Sendable () -> Date = { Date() }) {
        self.expectedOrigin = expectedOrigin
        self.certificates = HolderCertificateValidator(trustStore: trustStore)
        self.now = now
    }

    /// Validates the token as posted by the page (its JSON text).
    package func validate(tokenJSON: [UInt8], nonce: String) async throws(RelyingPartyError) -> HolderIdentity {
        guard Self.tokenLengthRange.contains(tokenJSON.count) else {
            let bounds = "\(Self.tokenLengthRange.lowerBound) to \(Self.tokenLengthRange.upperBound)"
            throw RelyingPartyError(.tokenLength, "the token must be \(bounds) bytes, got \(tokenJSON.count)")
        }
        let token: WebEidToken
        do {
            // Unknown fields are ignored, as Web eID validators do; missing or non-string fields are not.
            token = try JSONDecoder().decode(WebEidToken.self, from: Data(tokenJSON))
        } catch {
            throw RelyingPartyError(.malformedToken, "the token is not a Web eID token JSON object")
        }
        return try await validate(token: token, nonce: nonce)
    }

    /// Validates a decoded token.
    package func validate(token: WebEidToken, nonce: String) async throws(RelyingPartyError) -> HolderIdentity {
        guard token.format.hasPrefix("web-eid:1") else {
            throw RelyingPartyError(.unsupportedFormat, "unsupported token format \"\(token.format.prefix(32))\"")
        }
        guard Self.supportedAlgorithms.contains(token.algorithm) else {
            throw RelyingPartyError(.unsupportedAlgorithm, "unsupported algorithm \"\(token.algorithm.prefix(16))\"")
        }
        let der: [UInt8]
        let signature: [UInt8]
        do {
            der = try token.certificateDER()
            signature = try token.signatureBytes()
        } catch {
            throw RelyingPartyError(.malformedToken, error.reason)
        }
        let (certificate, identity) = try await certificates.validate(der: der, at: now())
        do {
            try ChallengeNonce.validate(nonce)
        } catch {
            // The nonce is the server's own: a bad one is a server bug, and no signature can match it.
            throw RelyingPartyError(.invalidSignature, "the stored nonce is invalid: \(error.reason)")
        }
        let data = WebEidSignedData.data(origin: expectedOrigin, nonce: nonce)
        try Self.verify(signature, over: data, algorithm: token.algorithm, key: certificate.publicKey)
        return identity
    }

    /// Verifies `signature` over `data` with the JWA algorithm, refusing a key of the wrong kind.
    static func verify(
        _ signature: [UInt8], over data: [UInt8], algorithm: String, key: Certificate.PublicKey
    ) throws(RelyingPartyError) {
        let valid: Bool
        switch algorithm {
        case "RS256", "PS256":
            guard let rsa = _RSA.Signing.PublicKey(key) else {
                throw RelyingPartyError(.unsupportedAlgorithm, "\(algorithm) needs an RSA certificate key")
            }
            let padding: _RSA.Signing.Padding = algorithm == "RS256" ? .insecurePKCS1v1_5 : .PSS
            valid = rsa.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: data), padding: padding)
        case "ES256":
            guard let ec = P256.Signing.PublicKey(key) else {
                throw RelyingPartyError(.unsupportedAlgorithm, "ES256 needs a P-256 certificate key")
            }
            // Web eID sends ECDSA signatures raw (R ‖ S), not DER.
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
                throw RelyingPartyError(.invalidSignature, "an ES256 signature is 64 bytes R ‖ S")
            }
            valid = ec.isValidSignature(ecdsa, for: SHA256.hash(data: data))
        default:
            throw RelyingPartyError(.unsupportedAlgorithm, "unsupported algorithm \"\(algorithm.prefix(16))\"")
        }
        guard valid else {
            throw RelyingPartyError(
                .invalidSignature, "the signature does not match \(algorithm) over the origin and the nonce")
        }
    }
}
