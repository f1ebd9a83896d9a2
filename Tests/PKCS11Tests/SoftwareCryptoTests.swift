import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// Cryptolib's software functions (cryptolib-pkcs11.md §8.6–8.7), with the return codes of ANS's test plan
/// on real cards (cps3v3.tsv / cps4v1.tsv row numbers).
@Suite("PKCS11Connection: software digest, verify, encrypt")
struct SoftwareCryptoTests {
    static let message = Array("Cryptolib en logiciel".utf8)

    @Test func digestOneShotMultiPartAndShortBuffer() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            let c = fixture.connection
            // 803–805: SHA-1 one-shot, length query keeps the operation.
            try c.digestInit(session: session, mechanism: Mechanism(type: .sha1))
            #expect(try c.digest(session: session, data: Self.message, capacity: nil) == .length(20))
            #expect(
                try c.digest(session: session, data: Self.message, capacity: 20)
                    == .value(Array(Insecure.SHA1.hash(data: Self.message))))
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.digestFinal(session: session, capacity: 20) }
            // 806–809: SHA-256 in parts.
            try c.digestInit(session: session, mechanism: Mechanism(type: .sha256))
            try c.digestUpdate(session: session, part: Array(Self.message.prefix(5)))
            try c.digestUpdate(session: session, part: Array(Self.message.dropFirst(5)))
            #expect(try c.digestFinal(session: session, capacity: nil) == .length(32))
            #expect(try c.digestFinal(session: session, capacity: 32) == .value(Array(SHA256.hash(data: Self.message))))
            // 818–819: too small a buffer is CKR_BUFFER_TOO_SMALL and keeps the operation.
            try c.digestInit(session: session, mechanism: Mechanism(type: .sha256))
            #expect(try c.digest(session: session, data: Self.message, capacity: 31) == .bufferTooSmall(32))
            #expect(try c.digest(session: session, data: Self.message, capacity: 32) == .value(Array(SHA256.hash(data: Self.message))))
            // 802 / bad mechanism / second init.
            #expect(throws: PKCS11Error(.sessionHandleInvalid)) { try c.digestInit(session: 0xBAD, mechanism: Mechanism(type: .sha1)) }
            #expect(throws: PKCS11Error(.mechanismInvalid)) { try c.digestInit(session: session, mechanism: Mechanism(type: .rsaPKCS)) }
            try c.digestInit(session: session, mechanism: Mechanism(type: .sha1))
            #expect(throws: PKCS11Error(.operationActive)) { try c.digestInit(session: session, mechanism: Mechanism(type: .sha1)) }
        }
    }

    /// ANS 810–812: "digest non std", C_DigestFinal after a C_Digest length query (Cryptolib #1466).
    @Test func digestFinalAfterDigestLengthQuery() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.open()
            try fixture.connection.digestInit(session: session, mechanism: Mechanism(type: .sha1))
            #expect(try fixture.connection.digest(session: session, data: Self.message, capacity: nil) == .length(20))
            #expect(
                try fixture.connection.digestFinal(session: session, capacity: 20)
                    == .value(Array(Insecure.SHA1.hash(data: Self.message))))
        }
    }

    @Test func verifyPathsOfTheTestPlan() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let c = fixture.connection
            let signer = try fixture.privateKey(session, .signature)
            let key = try Self.publicKeyHandle(fixture, session, .signature)
            let signature = try fixture.sign(session, key: signer, .sha256RSAPKCS, Self.message)
            // 705, 706, 708.
            #expect(throws: PKCS11Error(.keyHandleInvalid)) {
                try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: 0xBAD)
            }
            #expect(throws: PKCS11Error(.mechanismInvalid)) {
                try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCSPSS, parameter: Fixture.pssSHA256), key: key)
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.verify(session: session, data: [], signature: []) }
            // 710, 712: CKM_RSA_PKCS data longer than k-11 ends the operation (713 re-inits).
            try c.verifyInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            #expect(throws: PKCS11Error(.dataLenRange)) {
                try c.verify(session: session, data: Array(repeating: 1, count: 246), signature: signature)
            }
            // 713–715: a short signature is CKR_SIGNATURE_LEN_RANGE, then the operation is over.
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            #expect(throws: PKCS11Error(.signatureLenRange)) {
                try c.verify(session: session, data: Self.message, signature: Array(signature.dropLast()))
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try c.verify(session: session, data: Self.message, signature: signature)
            }
            // 716–717, and a mismatch.
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            try c.verify(session: session, data: Self.message, signature: signature)
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            #expect(throws: PKCS11Error(.signatureInvalid)) {
                try c.verify(session: session, data: Self.message + [0], signature: signature)
            }
            // 718, 724, 726–733: multi-part.
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.verifyUpdate(session: session, part: [1]) }
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.verifyFinal(session: session, signature: signature) }
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            try c.verifyUpdate(session: session, part: Array(Self.message.prefix(3)))
            #expect(throws: PKCS11Error(.signatureLenRange)) { try c.verifyFinal(session: session, signature: [1, 2]) }
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.verifyFinal(session: session, signature: signature) }
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha256RSAPKCS), key: key)
            try c.verifyUpdate(session: session, part: Array(Self.message.prefix(3)))
            try c.verifyUpdate(session: session, part: Array(Self.message.dropFirst(3)))
            try c.verifyFinal(session: session, signature: signature)
        }
    }

    /// ANS 734–737: CKM_RSA_PKCS signatures of a bare SHA-1 / SHA-256 hash, verified with that hash; and a
    /// SHA-1 hashing signature made by the card (1006–1008 with SHA-1).
    @Test func verifiesBareHashAndDigestInfoSignatures() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let c = fixture.connection
            let signer = try fixture.privateKey(session, .signature)
            let key = try Self.publicKeyHandle(fixture, session, .signature)
            for hash in [Array(Insecure.SHA1.hash(data: Self.message)), Array(SHA256.hash(data: Self.message))] {
                let signature = try fixture.sign(session, key: signer, .rsaPKCS, hash)
                try c.verifyInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
                try c.verify(session: session, data: hash, signature: signature)
            }
            let digestInfo = Fixture.digestInfoSHA256(Self.message)
            let signature = try fixture.sign(session, key: signer, .rsaPKCS, digestInfo)
            try c.verifyInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            try c.verify(session: session, data: digestInfo, signature: signature)
            let sha1 = try fixture.sign(session, key: signer, .sha1RSAPKCS, Self.message)
            // A private key handle verifies with its certificate's key.
            try c.verifyInit(session: session, mechanism: Mechanism(type: .sha1RSAPKCS), key: signer)
            try c.verify(session: session, data: Self.message, signature: sha1)
        }
    }

    /// CPS4 ANS 1302–1311: PSS with the authentication key, verified with the given sLen; and raw RSA.
    @Test func cps4VerifiesPSSWithTheGivenSaltLengthAndRawRSA() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let c = fixture.connection
            let signer = try fixture.privateKey(session, .authentication)
            let key = try Self.publicKeyHandle(fixture, session, .authentication)
            let cases: [(CKM, [UInt8], [UInt8])] = [
                (.sha1RSAPKCSPSS, Fixture.pssSHA1, Self.message), (.sha256RSAPKCSPSS, Fixture.pssSHA256, Self.message),
                (.rsaPKCSPSS, Fixture.pssSHA256, Array(SHA256.hash(data: Self.message))),
            ]
            for (type, parameter, data) in cases {
                let signature = try fixture.sign(session, key: signer, Mechanism(type: type, parameter: parameter), data)
                try c.verifyInit(session: session, mechanism: Mechanism(type: type, parameter: parameter), key: key)
                try c.verify(session: session, data: data, signature: signature)
                // Another sLen is honoured, so the card's sLen = hLen signature does not verify under it.
                let other = Fixture.pssParameters(hash: type == .sha1RSAPKCSPSS ? .sha1 : .sha256,
                    mgf: type == .sha1RSAPKCSPSS ? CKG.mgf1SHA1 : CKG.mgf1SHA256, saltLength: 0)
                try c.verifyInit(session: session, mechanism: Mechanism(type: type, parameter: other), key: key)
                #expect(throws: PKCS11Error(.signatureInvalid)) { try c.verify(session: session, data: data, signature: signature) }
            }
            #expect(throws: PKCS11Error(.mechanismParamInvalid)) {
                try c.verifyInit(session: session, mechanism: Mechanism(type: .sha1RSAPKCSPSS, parameter: Fixture.pssSHA256), key: key)
            }
            let block = Fixture.pkcs1Block(sha256: Self.message)
            let raw = try fixture.sign(session, key: signer, .rsaX509, block)
            try c.verifyInit(session: session, mechanism: Mechanism(type: .rsaX509), key: key)
            try c.verify(session: session, data: block, signature: raw)
        }
    }

    /// ANS 402–409: encryption to the authentication public key, decrypted by the card.
    @Test func encryptPathsOfTheTestPlan() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let c = fixture.connection
            let key = try Self.publicKeyHandle(fixture, session, .authentication)
            let rsaPKCS = Mechanism(type: .rsaPKCS)
            #expect(throws: PKCS11Error(.keyHandleInvalid)) { try c.encryptInit(session: session, mechanism: rsaPKCS, key: 0xBAD) }
            #expect(throws: PKCS11Error(.mechanismInvalid)) {
                try c.encryptInit(session: session, mechanism: Mechanism(type: .rsaX509), key: key)
            }
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) {
                try c.encryptInit(session: session, mechanism: rsaPKCS, key: fixture.privateKey(session, .authentication))
            }
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) {
                try c.encryptInit(session: session, mechanism: rsaPKCS, key: Self.publicKeyHandle(fixture, session, .signature))
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.encrypt(session: session, data: [1], capacity: 256) }
            try c.encryptInit(session: session, mechanism: rsaPKCS, key: key)
            #expect(try c.encrypt(session: session, data: Self.message, capacity: nil) == .length(256))
            #expect(try c.encrypt(session: session, data: Self.message, capacity: 100) == .bufferTooSmall(256))
            guard case .value(let cryptogram) = try c.encrypt(session: session, data: Self.message, capacity: 256) else {
                Issue.record("no cryptogram")
                return
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try c.encrypt(session: session, data: [1], capacity: 256) }
            #expect(try fixture.decrypt(session, .rsaPKCS, cryptogram) == Self.message)
            try c.encryptInit(session: session, mechanism: rsaPKCS, key: key)
            #expect(throws: PKCS11Error(.dataLenRange)) {
                try c.encrypt(session: session, data: Array(repeating: 1, count: 246), capacity: 256)
            }
        }
    }

    @Test(arguments: CardGeneration.allCases)
    func mechanismsListDigestsFirstWithSoftwareFlags(generation: CardGeneration) async throws {
        try await onThread {
            let fixture = try Fixture.of(generation)
            let list = try fixture.connection.mechanismList(fixture.slot)
            #expect(Array(list.prefix(2)) == [.sha1, .sha256])
            let info = { (type: CKM) throws in try fixture.connection.mechanismInfo(fixture.slot, type) }
            #expect(try info(.sha1) == MechanismInfo(minKeySize: 0, maxKeySize: 0, flags: CKF.digestFlag))
            #expect(try info(.rsaPKCS).flags & (CKF.verifyFlag | CKF.encryptFlag) == CKF.verifyFlag | CKF.encryptFlag)
            #expect(try info(.sha256RSAPKCS).flags & CKF.verifyFlag != 0)
        }
    }

    static func publicKeyHandle(_ fixture: Fixture, _ session: UInt, _ role: KeyRole) throws -> UInt {
        let certificate = role == .authentication ? Fixture.authCertificate : Fixture.signCertificate
        return try fixture.object(session, label: "Cle publique - " + certificate + "\0", objectClass: CKO.publicKey)
    }
}
