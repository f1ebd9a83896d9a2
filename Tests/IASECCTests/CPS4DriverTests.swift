import CardTestSupport
import Crypto
import Foundation
import IASECC
import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard
import X509
import _CryptoExtras

/// The CPS4 driver against the in-process CPS4 simulator: everything the daemon asks of a card, each
/// checked against the certificates' public keys, not against the simulator's word.
@Suite("CPS4 driver on the virtual card")
struct CPS4DriverTests {
    static let driver = CPS4Driver()

    static func pin() -> SecretBytes {
        var bytes = TestCards.pin
        return SecretBytes(consuming: &bytes)
    }

    static func signingKey(_ role: KeyRole) throws -> _RSA.Signing.PublicKey {
        let state = TestCards.defaultState
        let der = role == .authentication ? state.authenticationCertificateDER : state.signatureCertificateDER
        return try #require(_RSA.Signing.PublicKey(try Certificate(derEncoded: der).publicKey))
    }

    /// VERIFY, then `body`, in one transaction of a fresh CPS4.
    static func verified<R>(_ rig: InProcessCard, _ body: (inout CardSession) throws -> R) throws -> R {
        try rig.connection.withTransaction { session in
            try driver.verifyPIN(&session, pin())
            return try body(&session)
        }
    }

    @Test("the driver is chosen by ATR, and a cold read finds label, keys by role, certificates and counters")
    func coldRead() throws {
        let rig = try InProcessCard(state: TestCards.cps4State())
        let chosen = try #require(CardDrivers.driver(for: rig.connection.atr.bytes))
        #expect(chosen.kind == .cps4)
        let contents = try rig.connection.withTransaction { try chosen.readCard(&$0) }
        #expect(contents.tokenInfo.label == "CPS4v1-\(TestCards.defaultState.serial)")
        let roles = Dictionary(uniqueKeysWithValues: contents.privateKeys.compactMap { key in
            chosen.role(of: key).map { ($0, key) }
        })
        #expect(roles[.signature]?.id.last == 0x10 && roles[.authentication]?.id.last == 0x20)
        #expect(roles[.authentication].flatMap(contents.certificate(for:))?.der
            == TestCards.defaultState.authenticationCertificateDER)
        #expect(contents.pinStatus.pin.triesLeft == 3)
        #expect(contents.serialNumber == CPS3Driver.serialNumber(fromPAN: contents.pan) && contents.serialNumber.count == 8)
    }

    @Test("the T=0-only CPS4 (3B DC 18 FF …) is driven as a CPS4: read, then a PSS signature through GET RESPONSE")
    func t0OnlyCard() throws {
        let rig = try InProcessCard(state: TestCards.cps4State(atr: .t0))
        #expect(rig.connection.atr.isT0Only)
        let driver = try #require(CardDrivers.driver(for: rig.connection.atr.bytes))
        #expect(driver.kind == .cps4)
        let contents = try rig.connection.withTransaction { try driver.readCard(&$0) }
        #expect(contents.tokenInfo.label?.hasPrefix("CPS4v1-") == true)
        let digest = Array(SHA256.hash(data: Array("t0".utf8)))
        let signature = try Self.verified(rig) {
            try driver.sign(&$0, SignatureRequest(role: .authentication, mechanism: .rsaPKCSPSS, pssHash: .sha256, data: digest))
        }
        #expect(try Self.signingKey(.authentication).isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: Array("t0".utf8)), padding: .PSS))
    }

    @Test("every signature mechanism of both keys verifies with the certificate", arguments: KeyRole.allCases)
    func signatures(role: KeyRole) throws {
        let rig = try InProcessCard(state: TestCards.cps4State())
        let key = try Self.signingKey(role)
        let message = Array("ordonnance n° 42".utf8)
        let digest256 = Array(SHA256.hash(data: message))
        let digest1 = Array(Insecure.SHA1.hash(data: message))
        for mechanism in Self.driver.capabilities(of: role).signatures.sorted(by: { $0.rawValue < $1.rawValue }) {
            let (data, hash): ([UInt8], SignatureHash) =
                switch mechanism {
                case .rsaPKCS: (SignatureHash.sha256.digestInfoPrefix + digest256, .sha256)
                case .rsaPKCSPSS: (digest1, .sha1)
                case .rsaX509: (try Self.type1Block(SignatureHash.sha256.digestInfoPrefix + digest256), .sha256)
                default: (message, mechanism.messageHash ?? .sha256)
                }
            let request = SignatureRequest(
                role: role, mechanism: mechanism, pssHash: mechanism == .rsaPKCSPSS ? .sha1 : nil, data: data)
            let signature = try Self.verified(rig) { try Self.driver.sign(&$0, request) }
            let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let padding: _RSA.Signing.Padding = mechanism.isPSS ? .PSS : .insecurePKCS1v1_5
            let valid =
                hash == .sha256
                ? key.isValidSignature(rsa, for: SHA256.hash(data: message), padding: padding)
                : key.isValidSignature(rsa, for: Insecure.SHA1.hash(data: message), padding: padding)
            #expect(valid, "\(role) \(mechanism)")
        }
    }

    @Test("decryption: PKCS#1 v1.5 unpadded on the host, raw RSA returns the whole block")
    func decryption() throws {
        let rig = try InProcessCard(state: TestCards.cps4State())
        let certificate = try Certificate(derEncoded: TestCards.defaultState.authenticationCertificateDER)
        let publicKey = try _RSA.Encryption.PublicKey(derRepresentation: certificate.publicKey.subjectPublicKeyInfoBytes)
        let secret = Array("clé de session".utf8)
        let cryptogram = Array(try publicKey.encrypt(secret, padding: ._WEAK_AND_INSECURE_PKCS_V1_5))
        let plain = try Self.verified(rig) {
            try Self.driver.decrypt(&$0, DecryptionRequest(role: .authentication, mechanism: .rsaPKCS, cryptogram: cryptogram))
        }
        #expect(plain == secret)
        let block = try Self.verified(rig) {
            try Self.driver.decrypt(&$0, DecryptionRequest(role: .authentication, mechanism: .rsaX509, cryptogram: cryptogram))
        }
        #expect(block.count == 256 && block.starts(with: [0x00, 0x02]) && block.suffix(secret.count) == secret[...])
    }

    @Test("PIN: a wrong one costs one try, counters cost none, change and unblock work in their two-command forms")
    func pinOperations() throws {
        let rig = try InProcessCard(state: TestCards.cps4State())
        var wrongBytes: [UInt8] = Array("9999".utf8)
        let wrong = SecretBytes(consuming: &wrongBytes)
        let error = #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { try Self.driver.verifyPIN(&$0, wrong) }
        }
        #expect(error?.code == .wrongPIN && error?.triesLeft == 2)
        let counters = try rig.connection.withTransaction { try Self.driver.readPINCounters(&$0) }
        #expect(counters.triesLeft == 2)
        #expect(try rig.connection.withTransaction { try Self.driver.readPINCounters(&$0) }.triesLeft == 2)
        var newBytes: [UInt8] = Array("4321".utf8)
        let newPIN = SecretBytes(consuming: &newBytes)
        try rig.connection.withTransaction { try Self.driver.changePIN(&$0, old: Self.pin(), new: newPIN) }
        try rig.connection.reconnect(.reset)
        let refused = #expect(throws: IASECCError.self) {
            try rig.connection.withTransaction { try Self.driver.verifyPIN(&$0, Self.pin()) }
        }
        #expect(refused?.code == .wrongPIN, "the old PIN no longer works")
        var pukBytes = TestCards.puk
        let puk = SecretBytes(consuming: &pukBytes)
        try rig.connection.withTransaction { try Self.driver.unblockPIN(&$0, puk: puk, newPIN: Self.pin()) }
        try rig.connection.reconnect(.reset)
        try rig.connection.withTransaction { try Self.driver.verifyPIN(&$0, Self.pin()) }
        #expect(try rig.connection.withTransaction { try Self.driver.readPINCounters(&$0) }.triesLeft == 3)
    }

    @Test("a lost ChipDoc context (6985 on MSE) is recovered by a reselect and the signature made, with one VERIFY")
    func lostContextDuringSignature() throws {
        let directory = TestCards.temporaryDirectory("cps4-lost-context")
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = directory.appendingPathComponent("plan")
        try Data("mode=off".utf8).write(to: plan)
        let faults = CardFaultInjector(planPath: plan.path)
        let rig = try InProcessCard(state: TestCards.cps4State()) { _ in
            CPS3Card(state: TestCards.cps4State(), faults: faults)
        }
        let digest = Array(SHA256.hash(data: Array("recovered".utf8)))
        let signature = try rig.connection.withTransaction { session in
            try Self.driver.verifyPIN(&session, Self.pin())
            // The next ChipDoc command, the MSE of the signature, is answered 6985 and channel 1 forgets.
            try Data("mode=\(CardFaultInjector.lostContextMode)\n".utf8).write(to: plan)
            return try Self.driver.sign(&session, .rsaPKCS(role: .signature, input: digest))
        }
        #expect(try Self.signingKey(.signature).isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: Array("recovered".utf8)),
            padding: .insecurePKCS1v1_5))
        // The card's own count: the fault fired once, and the only VERIFY it saw was the one above.
        let stats = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plan.path + ".stats")))
                as? [String: Any])
        #expect((stats["faults"] as? [String: Int])?[CardFaultInjector.lostContextMode] == 1, "\(stats)")
        #expect(stats["verifyAccepted"] as? Int == 1 && stats["verifyRefused"] as? Int == 0, "\(stats)")
    }

    @Test("requests a key cannot make are refused before any APDU")
    func refusals() throws {
        #expect(throws: IASECCError.self) {
            try Self.driver.validate(SignatureRequest(role: .signature, mechanism: .rsaX509, data: [1]))
        }
        #expect(throws: IASECCError.self) {
            try Self.driver.validate(.rsaPKCS(role: .signature, input: Array(repeating: 1, count: 50)))
        }
        #expect(throws: IASECCError.self) {
            try Self.driver.validate(.rsaPKCS(role: .authentication, input: Array(repeating: 1, count: 246)))
        }
        #expect(throws: IASECCError.self) {
            try Self.driver.validate(
                SignatureRequest(role: .authentication, mechanism: .rsaPKCSPSS, pssHash: .sha256, data: [1, 2, 3]))
        }
        #expect(throws: Never.self) {
            try Self.driver.validate(.rsaPKCS(role: .authentication, input: Array(repeating: 1, count: 245)))
        }
    }

    static func type1Block(_ input: [UInt8]) throws -> [UInt8] {
        [0x00, 0x01] + Array(repeating: 0xFF, count: 256 - 3 - input.count) + [0x00] + input
    }
}
