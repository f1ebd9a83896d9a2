import CardTestSupport
import Crypto
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// Helpers for the per-generation mechanism tests: CPS4 cards, PSS parameters, encryption to the card.
extension Fixture {
    /// A fixture over an in-process CPS4 (same keys as the default CPS3 test card).
    static func cps4() throws -> Fixture { try Fixture(state: TestCards.cps4State()) }

    /// A fixture of either generation.
    static func of(_ generation: CardGeneration) throws -> Fixture {
        generation == .cps4 ? try cps4() : try Fixture()
    }

    /// CK_RSA_PKCS_PSS_PARAMS in native layout, as p11-kit's server hands it over.
    static func pssParameters(hash: CKM, mgf: UInt, saltLength: UInt) -> [UInt8] {
        AttributeValue.ulong(hash.rawValue) + AttributeValue.ulong(mgf) + AttributeValue.ulong(saltLength)
    }

    static let pssSHA256 = pssParameters(hash: .sha256, mgf: CKG.mgf1SHA256, saltLength: 32)
    static let pssSHA1 = pssParameters(hash: .sha1, mgf: CKG.mgf1SHA1, saltLength: 20)

    func privateKey(_ session: UInt, _ role: KeyRole) throws -> UInt {
        try object(
            session, label: role == .authentication ? "CPS_PRIV_AUT" : "CPS_PRIV_SIG", objectClass: CKO.privateKey)
    }

    func publicKey(_ session: UInt, _ role: KeyRole) throws -> _RSA.Signing.PublicKey {
        try certificateKey(
            session, certificateLabel: role == .authentication ? Fixture.authCertificate : Fixture.signCertificate)
    }

    /// `message` encrypted (PKCS#1 v1.5 type 2) to the authentication certificate's key.
    func encryptToAuthenticationKey(_ session: UInt, _ message: [UInt8]) throws -> [UInt8] {
        let key = try _RSA.Encryption.PublicKey(
            derRepresentation: publicKey(session, .authentication).derRepresentation)
        return Array(try key.encrypt(message, padding: ._WEAK_AND_INSECURE_PKCS_V1_5))
    }

    /// Decrypts in one call after a length query (which must answer the modulus length and keep the operation).
    func decrypt(_ session: UInt, _ mechanism: CKM, _ cryptogram: [UInt8]) throws -> [UInt8] {
        let key = try privateKey(session, .authentication)
        try connection.decryptInit(session: session, mechanism: Mechanism(type: mechanism), key: key)
        #expect(try connection.decrypt(session: session, cryptogram: cryptogram, capacity: nil) == .length(256))
        guard
            case .value(let plaintext) = try connection.decrypt(session: session, cryptogram: cryptogram, capacity: 256)
        else {
            Issue.record("no plaintext")
            return []
        }
        return plaintext
    }

    /// An EMSA-PKCS1-v1_5 block of the SHA-256 DigestInfo of `message`, as raw RSA takes it (256 bytes).
    static func pkcs1Block(sha256 message: [UInt8]) -> [UInt8] {
        let digestInfo = digestInfoSHA256(message)
        return [0x00, 0x01] + Array(repeating: 0xFF, count: 256 - 3 - digestInfo.count) + [0x00] + digestInfo
    }
}

extension _RSA.Signing.PublicKey {
    /// EMSA-PSS with MGF1 of the same hash and sLen = hLen (swift-crypto's `.PSS`).
    func verifiesPSS(_ signature: [UInt8], message: [UInt8], hash: SignatureHash) -> Bool {
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        return hash == .sha1
            ? isValidSignature(rsa, for: Insecure.SHA1.hash(data: message), padding: .PSS)
            : isValidSignature(rsa, for: SHA256.hash(data: message), padding: .PSS)
    }
}
