import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// Signatures a CPS4 makes and a CPS3 cannot, verified with the certificate's public key.
@Suite("PKCS11Connection: CPS4 signatures (PSS, raw RSA)")
struct CPS4SignTests {
    static let message = Array("RSA-PSS for TLS 1.3".utf8)

    @Test(arguments: KeyRole.allCases)
    func pssSignaturesVerify(role: KeyRole) async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, role)
            let publicKey = try fixture.publicKey(session, role)
            let message = Self.message
            let hashing = try fixture.sign(
                session, key: key, Mechanism(type: .sha256RSAPKCSPSS, parameter: Fixture.pssSHA256), message)
            #expect(publicKey.verifiesPSS(hashing, message: message, hash: .sha256))
            #expect(!publicKey.verifies(hashing, sha256: message))
            let sha1 = try fixture.sign(
                session, key: key, Mechanism(type: .sha1RSAPKCSPSS, parameter: Fixture.pssSHA1), message)
            #expect(publicKey.verifiesPSS(sha1, message: message, hash: .sha1))
            // CKM_RSA_PKCS_PSS signs the caller's digest, of the hash the parameters name.
            let digest256 = Array(SHA256.hash(data: message))
            let raw256 = try fixture.sign(
                session, key: key, Mechanism(type: .rsaPKCSPSS, parameter: Fixture.pssSHA256), digest256)
            #expect(publicKey.verifiesPSS(raw256, message: message, hash: .sha256))
            let digest1 = Array(Insecure.SHA1.hash(data: message))
            let raw1 = try fixture.sign(
                session, key: key, Mechanism(type: .rsaPKCSPSS, parameter: Fixture.pssSHA1), digest1)
            #expect(publicKey.verifiesPSS(raw1, message: message, hash: .sha1))
        }
    }

    @Test func multiPartPSSIsBufferedAndVerifies() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, .signature)
            let message = Array(repeating: UInt8(0x62), count: 300)
            try fixture.connection.signInit(
                session: session, mechanism: Mechanism(type: .sha256RSAPKCSPSS, parameter: Fixture.pssSHA256), key: key)
            try fixture.connection.signUpdate(session: session, part: Array(message.prefix(100)))
            try fixture.connection.signUpdate(session: session, part: Array(message.dropFirst(100)))
            guard case .value(let signature) = try fixture.connection.signFinal(session: session, capacity: 256) else {
                Issue.record("no signature")
                return
            }
            #expect(try fixture.publicKey(session, .signature).verifiesPSS(signature, message: message, hash: .sha256))
        }
    }

    @Test func authenticationKeySignsRawAndPKCS1Forms() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, .authentication)
            let publicKey = try fixture.publicKey(session, .authentication)
            let message = Self.message
            // Raw RSA of a PKCS#1 v1.5 block is a PKCS#1 v1.5 signature: that is how it is checked here.
            let raw = try fixture.sign(session, key: key, .rsaX509, Fixture.pkcs1Block(sha256: message))
            #expect(publicKey.verifies(raw, sha256: message))
            let hashing = try fixture.sign(session, key: key, .sha256RSAPKCS, message)
            #expect(publicKey.verifies(hashing, sha256: message))
            let padded = try fixture.sign(session, key: key, .rsaPKCS, Fixture.digestInfoSHA256(message))
            #expect(publicKey.verifies(padded, sha256: message))
        }
    }

    @Test func inputLengthsAreCheckedBeforeTheCard() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, .authentication)
            let refusals: [(Mechanism, Int)] = [
                (Mechanism(type: .rsaPKCS), 246), (Mechanism(type: .rsaX509), 257),
                (Mechanism(type: .rsaPKCSPSS, parameter: Fixture.pssSHA256), 20),
                (Mechanism(type: .rsaPKCSPSS, parameter: Fixture.pssSHA1), 32),
            ]
            let verifies = fixture.cards.verifyCount
            for (mechanism, length) in refusals {
                try fixture.connection.signInit(session: session, mechanism: mechanism, key: key)
                #expect(throws: PKCS11Error(.dataLenRange), "\(mechanism.type) \(length)") {
                    try fixture.connection.sign(session: session, data: Array(repeating: 1, count: length), capacity: 256)
                }
                #expect(throws: PKCS11Error(.operationNotInitialized)) {
                    try fixture.connection.sign(session: session, data: [1], capacity: 256)
                }
            }
            #expect(fixture.cards.verifyCount == verifies)
            // Raw RSA and CKM_RSA_PKCS_PSS take one block: no multi-part, and the refusal ends the operation.
            for mechanism in [Mechanism(type: .rsaX509), Mechanism(type: .rsaPKCSPSS, parameter: Fixture.pssSHA256)] {
                try fixture.connection.signInit(session: session, mechanism: mechanism, key: key)
                #expect(throws: PKCS11Error(.functionNotSupported)) {
                    try fixture.connection.signUpdate(session: session, part: [1])
                }
                try fixture.connection.signInit(session: session, mechanism: mechanism, key: key)
                #expect(throws: PKCS11Error(.functionNotSupported)) {
                    try fixture.connection.signFinal(session: session, capacity: 256)
                }
                #expect(throws: PKCS11Error(.operationNotInitialized)) {
                    try fixture.connection.sign(session: session, data: [1], capacity: 256)
                }
            }
        }
    }
}
