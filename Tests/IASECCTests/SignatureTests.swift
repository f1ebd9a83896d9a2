import CardTestSupport
import Crypto
import Foundation
import IASECC
import SmartCardCore
import Testing
import SwiftASN1
import VirtualCard
import X509
import _CryptoExtras

/// Signatures from both keys verify with the certificate's public key.
@Suite("CPS3 signatures on the virtual card")
struct SignatureTests {
    static func publicKey(_ der: [UInt8]) throws -> _RSA.Signing.PublicKey {
        let certificate = try Certificate(derEncoded: der)
        return try #require(_RSA.Signing.PublicKey(certificate.publicKey))
    }

    private func verifiedSession<R>(_ rig: InProcessCard, _ body: (inout CardSession) throws -> R) throws -> (R, Int) {
        try rig.connection.withTransaction { session in
            var bytes = TestCards.pin
            let pin = SecretBytes(consuming: &bytes)
            try CPS3Driver.verifyPIN(&session, pin)
            let before = session.exchangeCount
            let result = try body(&session)
            return (result, session.exchangeCount - before)
        }
    }

    @Test("signature key, SHA-256 and SHA-1, card-side last hash round", arguments: [0, 1, 55, 64, 65, 100, 1000, 5000])
    func signatureKey(length: Int) throws {
        let rig = try InProcessCard()
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let key = try Self.publicKey(TestCards.defaultState.signatureCertificateDER)
        for hash in SignatureHash.allCases {
            let (signature, exchanges) = try verifiedSession(rig) {
                try CPS3Driver.signWithSignatureKey(&$0, message: message, hash: hash)
            }
            let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let valid = hash == .sha256
                ? key.isValidSignature(rsa, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
                : key.isValidSignature(rsa, for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
            #expect(valid, "\(hash) over \(length) bytes")
            // MSE HT, PSO HASH, MSE DST, PSO CDS (case 2: the 256 bytes come without GET RESPONSE).
            #expect(exchanges == 4)
        }
    }

    @Test("authentication key over a SHA-256 DigestInfo, as TLS 1.2 client authentication sends it")
    func authenticationKey() throws {
        let rig = try InProcessCard()
        let message = Array("TLS handshake transcript".utf8)
        let digestInfo: [UInt8] =
            [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
            + Array(SHA256.hash(data: message))
        let (signature, exchanges) = try verifiedSession(rig) {
            try CPS3Driver.signWithAuthenticationKey(&$0, input: digestInfo)
        }
        let key = try Self.publicKey(TestCards.defaultState.authenticationCertificateDER)
        #expect(key.isValidSignature(.init(rawRepresentation: signature), for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5))
        #expect(exchanges == 3)  // MSE SET AT, INTERNAL AUTHENTICATE + GET RESPONSE
    }

    @Test("after another process reset the card the application is reselected and signing still works")
    func recoversSelection() throws {
        let rig = try InProcessCard()
        try rig.connection.withTransaction { session in
            var bytes = TestCards.pin
            let pin = SecretBytes(consuming: &bytes)
            try CPS3Driver.verifyPIN(&session, pin)
            // Another process selects the MF: the keys are not reachable from there.
            _ = try session.transmit(.selectPath([0x3F, 0x00]))
            let signature = try CPS3Driver.signWithSignatureKey(&session, message: [1, 2, 3], hash: .sha256)
            #expect(signature.count == 256)
        }
    }
}

@Suite("CPS3 signature key with a host-computed hash")
struct HostHashSignatureTests {
    @Test("CKM_RSA_PKCS on the signature key: a DigestInfo is split and signed through PSO HASH 90 L hash")
    func digestInfo() throws {
        let rig = try InProcessCard()
        let message = Array("document".utf8)
        let key = try SignatureTests.publicKey(TestCards.defaultState.signatureCertificateDER)
        for hash in SignatureHash.allCases {
            let digest = hash == .sha256 ? Array(SHA256.hash(data: message)) : Array(Insecure.SHA1.hash(data: message))
            let parsed = try #require(SignatureHash.parseDigestInfo(hash.digestInfoPrefix + digest))
            #expect(parsed.0 == hash && parsed.1 == digest)
            let signature = try rig.connection.withTransaction { session in
                var bytes = TestCards.pin
                let pin = SecretBytes(consuming: &bytes)
                try CPS3Driver.verifyPIN(&session, pin)
                return try CPS3Driver.signDigestWithSignatureKey(&session, digest: parsed.1, hash: parsed.0)
            }
            let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let valid = hash == .sha256
                ? key.isValidSignature(rsa, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
                : key.isValidSignature(rsa, for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
            #expect(valid)
        }
        #expect(SignatureHash.parseDigestInfo([0x30, 0x00]) == nil)
    }
}
