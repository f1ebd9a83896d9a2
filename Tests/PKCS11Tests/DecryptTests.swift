import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// C_DecryptInit / C_Decrypt with the authentication key, on both generations.
@Suite("PKCS11Connection: decryption")
struct DecryptTests {
    static let message = Array("a session key, 32 bytes long....".utf8)

    @Test(arguments: CardGeneration.allCases)
    func decryptsWhatTheCertificateKeyEncrypted(generation: CardGeneration) async throws {
        try await onThread {
            let fixture = try Fixture.of(generation)
            let session = try fixture.loggedInSession()
            let cryptogram = try fixture.encryptToAuthenticationKey(session, Self.message)
            #expect(try fixture.decrypt(session, .rsaPKCS, cryptogram) == Self.message)
            #expect(fixture.cards.decryptCount == 1)
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.decrypt(session: session, cryptogram: cryptogram, capacity: 256)
            }
        }
    }

    @Test func cps4RawDecryptionReturnsTheWholeBlock() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let cryptogram = try fixture.encryptToAuthenticationKey(session, Self.message)
            let block = try fixture.decrypt(session, .rsaX509, cryptogram)
            #expect(block.count == 256)
            #expect(block.starts(with: [0x00, 0x02]))
            #expect(Array(block.suffix(Self.message.count + 1)) == [0x00] + Self.message)
        }
    }

    @Test func aTooSmallBufferKeepsThePlaintext() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, .authentication)
            let cryptogram = try fixture.encryptToAuthenticationKey(session, Self.message)
            try fixture.connection.decryptInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            let decrypt = { (capacity: Int?) throws in
                try fixture.connection.decrypt(session: session, cryptogram: cryptogram, capacity: capacity)
            }
            #expect(try decrypt(5) == .bufferTooSmall(Self.message.count))
            // Now the length is exact, and the card is not asked again.
            #expect(try decrypt(nil) == .length(Self.message.count))
            #expect(try decrypt(Self.message.count - 1) == .bufferTooSmall(Self.message.count))
            #expect(try decrypt(Self.message.count) == .value(Self.message))
            #expect(fixture.cards.decryptCount == 1)
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try decrypt(256) }
            // A logout drops a kept plaintext with the operation.
            try fixture.connection.decryptInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            #expect(try decrypt(1) == .bufferTooSmall(Self.message.count))
            try fixture.connection.logout(session: session)
            #expect(throws: PKCS11Error(.operationNotInitialized)) { try decrypt(256) }
        }
    }

    @Test func decryptInitRules() async throws {
        try await onThread {
            let fixture = try Fixture()
            let session = try fixture.loggedInSession()
            let auth = try fixture.privateKey(session, .authentication)
            let sign = try fixture.privateKey(session, .signature)
            let authPublic = try fixture.publicKeyObject(session, .authentication)
            let certificate = try fixture.object(session, label: Fixture.authCertificate, objectClass: CKO.certificate)
            let decryptInit = { (mechanism: Mechanism, key: UInt) throws in
                try fixture.connection.decryptInit(session: session, mechanism: mechanism, key: key)
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.decrypt(session: session, cryptogram: [1], capacity: 256)
            }
            #expect(throws: PKCS11Error(.mechanismInvalid)) { try decryptInit(Mechanism(type: .sha256RSAPKCS), auth) }
            #expect(throws: PKCS11Error(.mechanismInvalid)) { try decryptInit(Mechanism(type: .rsaX509), auth) }
            #expect(throws: PKCS11Error(.mechanismParamInvalid)) {
                try decryptInit(Mechanism(type: .rsaPKCS, parameter: [1]), auth)
            }
            #expect(throws: PKCS11Error(.objectHandleInvalid)) { try decryptInit(Mechanism(type: .rsaPKCS), 0xBAD) }
            #expect(throws: PKCS11Error(.objectHandleInvalid)) { try decryptInit(Mechanism(type: .rsaPKCS), certificate) }
            // What Cryptolib 5.2.2 answers for a key that does not decrypt (DifferentialCryptolibTests).
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) { try decryptInit(Mechanism(type: .rsaPKCS), sign) }
            #expect(throws: PKCS11Error(.keyTypeInconsistent)) {
                try decryptInit(Mechanism(type: .rsaPKCS), authPublic)
            }
            try decryptInit(Mechanism(type: .rsaPKCS), auth)
            #expect(throws: PKCS11Error(.operationActive)) { try decryptInit(Mechanism(type: .rsaPKCS), auth) }
            // A cryptogram of another length than the modulus ends the operation, without the card.
            #expect(throws: PKCS11Error(.encryptedDataLenRange)) {
                try fixture.connection.decrypt(session: session, cryptogram: Array(repeating: 1, count: 255), capacity: 256)
            }
            #expect(throws: PKCS11Error(.operationNotInitialized)) {
                try fixture.connection.decrypt(session: session, cryptogram: [1], capacity: 256)
            }
            #expect(fixture.cards.decryptCount == 0)
            // Not logged in (ANS 505).
            try fixture.connection.logout(session: session)
            #expect(throws: PKCS11Error(.userNotLoggedIn)) { try decryptInit(Mechanism(type: .rsaPKCS), auth) }
        }
    }

    @Test func cps4ABadlyPaddedCryptogramIsInvalid() async throws {
        try await onThread {
            let fixture = try Fixture.cps4()
            let session = try fixture.loggedInSession()
            let key = try fixture.privateKey(session, .authentication)
            try fixture.connection.decryptInit(session: session, mechanism: Mechanism(type: .rsaPKCS), key: key)
            #expect(throws: PKCS11Error(.encryptedDataInvalid)) {
                try fixture.connection.decrypt(
                    session: session, cryptogram: [0x00] + Array(repeating: 0x5A, count: 255), capacity: 256)
            }
            #expect(fixture.cards.decryptCount == 1)
        }
    }
}
