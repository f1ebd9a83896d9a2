import CardTestSupport
import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// A PKCS11Connection, initialized, over the daemon's real token cards and a fresh in-process CPS3 card.
/// The cards blocks its caller on every card operation: make and use a fixture on a dedicated thread,
/// with the test body in `try await onThread { ... }` (from a task, `init` throws and says so).
struct Fixture {
    let cards: DaemonToken
    let connection: PKCS11Connection
    var slot: SlotID { cards.slot }
    static let readerName = DaemonToken.readerName

    init(cards: DaemonToken? = nil, client: UInt64 = 1, state: CardState = TestCards.defaultState) throws {
        try DaemonToken.requireDedicatedThread()
        self.cards = try cards ?? DaemonToken(state: state)
        connection = PKCS11Connection(client: ClientID(client), cards: self.cards)
        try connection.initialize()
    }

    static func secret(_ bytes: [UInt8]) -> SecretBytes {
        var copy = bytes
        return SecretBytes(consuming: &copy)
    }

    static let pin = TestCards.pin
    static let puk = TestCards.puk
    static let wrongPIN: [UInt8] = Array("9999".utf8)

    func open(readWrite: Bool = false) throws -> UInt {
        try connection.openSession(slot: slot, flags: CKF.serialSession | (readWrite ? CKF.rwSession : 0))
    }

    /// Opens a session and logs the user in with the test PIN.
    func loggedInSession(readWrite: Bool = false) throws -> UInt {
        let session = try open(readWrite: readWrite)
        try connection.login(session: session, userType: .user, pin: Self.secret(Self.pin))
        return session
    }

    func find(_ session: UInt, _ template: [Attribute]) throws -> [UInt] {
        try connection.findObjectsInit(session: session, template: template)
        let found = try connection.findObjects(session: session, maxCount: 100)
        try connection.findObjectsFinal(session: session)
        return found
    }

    func object(_ session: UInt, label: String, objectClass: UInt) throws -> UInt {
        let found = try find(
            session,
            [
                .init(type: .label, value: Array(label.utf8)),
                .init(type: .class, value: AttributeValue.ulong(objectClass)),
            ])
        try #require(found.count == 1)
        return found[0]
    }

    func value(_ session: UInt, _ object: UInt, _ type: CKA) throws -> [UInt8] {
        let results = try connection.attributeValues(
            session: session, object: object, requests: [AttributeRequest(type: type, capacity: 1 << 16)])
        guard case .value(let bytes) = results.first else {
            Issue.record("no value for \(type): \(results)")
            return []
        }
        return bytes
    }

    /// The card's CPS data objects (CKO_DATA, cryptolib-pkcs11.md §6) as the daemon read them: the object
    /// counts are the 4 public key and certificate objects (6 with the private keys) plus these.
    var dataObjects: [TokenDataObject] { cards.token?.dataObjects ?? [] }
    var publicDataObjectCount: Int { dataObjects.filter { !$0.isPrivate }.count }

    /// The public key object of `role`, found by the CKA_ID of its certificate (whatever its label).
    func publicKeyObject(_ session: UInt, _ role: KeyRole) throws -> UInt {
        let certificate = try object(
            session, label: role == .authentication ? Self.authCertificate : Self.signCertificate,
            objectClass: CKO.certificate)
        let found = try find(
            session,
            [
                .init(type: .class, value: AttributeValue.ulong(CKO.publicKey)),
                .init(type: .id, value: value(session, certificate, .id)),
            ])
        try #require(found.count == 1)
        return found[0]
    }

    func tokenFlags() throws -> UInt { try connection.tokenInfo(slot).flags }

    /// Signs in one call (with a size query first, which must keep the operation).
    func sign(_ session: UInt, key: UInt, _ mechanism: CKM, _ data: [UInt8]) throws -> [UInt8] {
        try sign(session, key: key, Mechanism(type: mechanism), data)
    }

    func sign(_ session: UInt, key: UInt, _ mechanism: Mechanism, _ data: [UInt8]) throws -> [UInt8] {
        try connection.signInit(session: session, mechanism: mechanism, key: key)
        #expect(try connection.sign(session: session, data: data, capacity: nil) == .length(256))
        guard case .value(let signature) = try connection.sign(session: session, data: data, capacity: 256) else {
            Issue.record("no signature")
            return []
        }
        return signature
    }

    /// The public key of the certificate with `label`, from its DER (swift-certificates).
    func certificateKey(_ session: UInt, certificateLabel: String) throws -> _RSA.Signing.PublicKey {
        let handle = try object(session, label: certificateLabel, objectClass: CKO.certificate)
        let certificate = try Certificate(derEncoded: value(session, handle, .value))
        return try #require(_RSA.Signing.PublicKey(certificate.publicKey))
    }

    static let authCertificate = "Certificat d'Authentification CPS"
    static let signCertificate = "Certificat de Signature CPS"

    static func digestInfoSHA256(_ message: [UInt8]) -> [UInt8] {
        let prefix: [UInt8] = [
            0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
            0x04, 0x20,
        ]
        return prefix + Array(SHA256.hash(data: message))
    }
}

extension _RSA.Signing.PublicKey {
    func verifies(_ signature: [UInt8], sha256 message: [UInt8]) -> Bool {
        isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: message),
            padding: .insecurePKCS1v1_5)
    }

    func verifies(_ signature: [UInt8], sha1 message: [UInt8]) -> Bool {
        isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: Insecure.SHA1.hash(data: message),
            padding: .insecurePKCS1v1_5)
    }
}
