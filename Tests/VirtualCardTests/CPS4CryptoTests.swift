import Crypto
import Foundation
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// Signatures (PKCS#1 v1.5 and PSS, card-side padding) and raw PSO DECIPHER of the virtual CPS4
/// (cps4-card.md §7.1, §7.3), checked with the public keys.
@Suite struct CPS4CryptoTests {
    static let message = Array("a message to sign with a CPS4".utf8)
    static let sha256 = Array(SHA256.hash(data: message))
    static let sha1 = Array(Insecure.SHA1.hash(data: message))

    static func sign(_ rig: CPS4Rig, algorithm: UInt8, key: UInt8, digest: [UInt8]) -> (data: [UInt8], sw: UInt16) {
        let mse = rig.send([0x01, 0x22, 0x81, 0xB6, 0x04, 0x91, 0x02, algorithm, key])
        guard mse.sw == 0x9000 else { return ([], mse.sw) }
        return rig.send([0x01, 0x2A, 0x9E, 0x9A, UInt8(digest.count)] + digest + [0x00])
    }

    static func publicKey(_ key: _RSA.Signing.PrivateKey) -> _RSA.Signing.PublicKey { key.publicKey }

    @Test func signatureKeySignsPKCS1WithSHA256AndSHA1() throws {
        let rig = CPS4Rig()
        rig.open()
        #expect(Self.sign(rig, algorithm: 0x28, key: 0x90, digest: Self.sha256).sw == 0x6982)
        #expect(rig.verifyPIN() == 0x9000)
        let signature = Self.sign(rig, algorithm: 0x28, key: 0x90, digest: Self.sha256)
        #expect(signature.sw == 0x9000 && signature.data.count == 256)
        let key = Self.publicKey(SimulatorFixture.signatureKey)
        #expect(
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature.data), for: SHA256.hash(data: Self.message),
                padding: .insecurePKCS1v1_5))
        let sha1 = Self.sign(rig, algorithm: 0x0A, key: 0x90, digest: Self.sha1)
        #expect(
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: sha1.data), for: Insecure.SHA1.hash(data: Self.message),
                padding: .insecurePKCS1v1_5))
        // A hash of the wrong length for the algorithm.
        #expect(Self.sign(rig, algorithm: 0x28, key: 0x90, digest: Self.sha1).sw == 0x6700)
    }

    @Test func bothKeysSignPSSWithSaltAsLongAsTheHash() throws {
        let rig = CPS4Rig()
        rig.open()
        #expect(rig.verifyPIN() == 0x9000)
        for (reference, privateKey) in [
            (UInt8(0x90), SimulatorFixture.signatureKey), (0xA0, SimulatorFixture.authenticationKey),
        ] {
            let signature = Self.sign(rig, algorithm: 0x2C, key: reference, digest: Self.sha256)
            #expect(signature.sw == 0x9000)
            // swift-crypto's PSS verification uses MGF1 with the same hash and sLen = hLen.
            #expect(
                Self.publicKey(privateKey).isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature.data), for: SHA256.hash(data: Self.message),
                    padding: .PSS))
            let sha1 = Self.sign(rig, algorithm: 0x15, key: reference, digest: Self.sha1)
            #expect(
                Self.publicKey(privateKey).isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: sha1.data),
                    for: Insecure.SHA1.hash(data: Self.message),
                    padding: .PSS))
        }
        // Two PSS signatures of one hash differ (random salt).
        #expect(
            Self.sign(rig, algorithm: 0x2C, key: 0x90, digest: Self.sha256).data
                != Self.sign(rig, algorithm: 0x2C, key: 0x90, digest: Self.sha256).data)
    }

    @Test func authenticationKeyRefusesCardPaddedPKCS1AndSignatureNeedsMSE() {
        let rig = CPS4Rig()
        rig.open()
        #expect(rig.verifyPIN() == 0x9000)
        #expect(rig.send("01 22 81 B6 04 91 02 28 A0").sw == 0x6A80)
        #expect(rig.send("01 22 81 B6 04 91 02 28 91").sw == 0x6A88)
        #expect(rig.send([0x01, 0x2A, 0x9E, 0x9A, 0x20] + Self.sha256 + [0x00]).sw == 0x6985)
    }

    /// What Cryptolib does for CKM_RSA_PKCS on the auth key: it pads (type 1) and the card only exponentiates.
    @Test func chainedDecipherIsTheRawPrivateOperation() throws {
        let rig = CPS4Rig()
        rig.open()
        let digestInfo = bytes("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20") + Self.sha256
        let block = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: 256 - 3 - digestInfo.count) + [0x00] + digestInfo
        #expect(rig.send("01 22 41 B8 03 83 01 20").sw == 0x9000)
        #expect(rig.send([0x11, 0x2A, 0x80, 0x86, 0xFF] + block.prefix(255)).sw == 0x9000)
        #expect(rig.send([0x01, 0x2A, 0x80, 0x86, 0x01, block[255], 0x00]).sw == 0x6982)
        #expect(rig.verifyPIN() == 0x9000)
        #expect(rig.send([0x11, 0x2A, 0x80, 0x86, 0xFF] + block.prefix(255)).sw == 0x9000)
        let result = rig.send([0x01, 0x2A, 0x80, 0x86, 0x01, block[255], 0x00])
        #expect(result.sw == 0x9000 && result.data.count == 256)
        #expect(
            Self.publicKey(SimulatorFixture.authenticationKey).isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: result.data), for: SHA256.hash(data: Self.message),
                padding: .insecurePKCS1v1_5))
        // The MSE names the authentication key only.
        #expect(rig.send("01 22 41 B8 03 83 01 10").sw == 0x6A88)
    }

    @Test func getChallengeGivesEightBytes() {
        let rig = CPS4Rig()
        rig.open()
        let challenge = rig.send("01 84 00 00 08")
        #expect(challenge.sw == 0x9000 && challenge.data.count == 8)
    }
}
