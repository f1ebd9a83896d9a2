import Crypto
import PartialHash
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

@Suite struct SimulatorSignatureTests {
    static let setHashSHA256 = "00 22 41 AA 03 80 01 40"
    static let setHashSHA1 = "00 22 41 AA 03 80 01 10"
    static let setSignatureSHA256 = "00 22 41 B6 06 80 01 42 84 01 81"
    static let setSignatureSHA1 = "00 22 41 B6 06 80 01 12 84 01 81"
    static let computeSignature = "00 2A 9E 9A 00"

    static func message(_ length: Int) -> [UInt8] { (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }

    /// PSO HASH data for a Cryptolib split (reference §6.1 step 3).
    static func psoHash(_ split: PartialHashSplit) -> [UInt8] {
        var stateField: [UInt8] = []
        if let state = split.state {
            stateField = state + (0..<8).reversed().map { UInt8(truncatingIfNeeded: split.bitCount >> (8 * UInt64($0))) }
        }
        let data = [0x90, UInt8(stateField.count)] + stateField + [0x80, UInt8(split.tail.count)] + split.tail
        return [0x00, 0x2A, 0x90, 0xA0, UInt8(data.count)] + data
    }

    static func isValid(_ signature: [UInt8], _ digest: some Digest, key: _RSA.Signing.PrivateKey) -> Bool {
        key.publicKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
    }

    @Test(arguments: [0, 10, 64, 100, 1000])
    func partialHashSignatureSHA256Verifies(length: Int) throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let message = Self.message(length)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.setHashSHA256).statusWord == .success)
        #expect(try session.send(Self.psoHash(SHA256State.cryptolibSplit(message))).statusWord == .success)
        #expect(try session.send(Self.setSignatureSHA256).statusWord == .success)
        let signature = try session.send(Self.computeSignature)
        #expect(signature.statusWord == .success)
        #expect(signature.data.count == 256)
        #expect(Self.isValid(signature.data, SHA256.hash(data: message), key: SimulatorFixture.signatureKey))
        #expect(!Self.isValid(signature.data, SHA256.hash(data: message + [0]), key: SimulatorFixture.signatureKey))
    }

    @Test(arguments: [0, 10, 64, 100, 1000])
    func partialHashSignatureSHA1Verifies(length: Int) throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let message = Self.message(length)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.setHashSHA1).statusWord == .success)
        #expect(try session.send(Self.psoHash(SHA1State.cryptolibSplit(message))).statusWord == .success)
        // CRT with the key reference first, as OpenSC sends it.
        #expect(try session.send("00 22 41 B6 06 84 01 81 80 01 12").statusWord == .success)
        let signature = try session.send(Self.computeSignature)
        #expect(signature.statusWord == .success)
        #expect(Self.isValid(signature.data, Insecure.SHA1.hash(data: message), key: SimulatorFixture.signatureKey))
    }

    @Test func completeHostHashIsAccepted() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let digest = SHA256.hash(data: Self.message(77))
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.setHashSHA256).statusWord == .success)
        #expect(try session.send([0x00, 0x2A, 0x90, 0xA0, 0x22, 0x90, 0x20] + Array(digest)).statusWord == .success)
        #expect(try session.send(Self.setSignatureSHA256).statusWord == .success)
        let signature = try session.send(Self.computeSignature)
        #expect(Self.isValid(signature.data, digest, key: SimulatorFixture.signatureKey))
    }

    @Test func signatureNeedsPINThenHashAndConsumesIt() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let hash = Self.psoHash(SHA256State.cryptolibSplit(Self.message(10)))
        #expect(try session.send(Self.setHashSHA256).statusWord == .success)
        #expect(try session.send(hash).statusWord == .success)
        #expect(try session.send(Self.setSignatureSHA256).statusWord == .success)
        #expect(try session.send(Self.computeSignature).statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.computeSignature).statusWord == .success)
        #expect(try session.send(Self.computeSignature).statusWord == .conditionsOfUseNotSatisfied)
        // A SHA-1 hash does not match a SHA-256 DST.
        #expect(try session.send(Self.setHashSHA1).statusWord == .success)
        #expect(try session.send(Self.psoHash(SHA1State.cryptolibSplit(Self.message(10)))).statusWord == .success)
        #expect(try session.send(Self.computeSignature).statusWord == .conditionsOfUseNotSatisfied)
    }

    @Test func hashNeedsAHashTemplateAndAlignedCount() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let split = SHA256State.cryptolibSplit(Self.message(100))
        #expect(try session.send(Self.psoHash(split)).statusWord == .conditionsOfUseNotSatisfied)
        #expect(try session.send(Self.setHashSHA256).statusWord == .success)
        var unaligned = split
        unaligned.bitCount = 8
        #expect(try session.send(Self.psoHash(unaligned)).statusWord == .incorrectData)
        #expect(try session.send("00 22 41 AA 03 80 01 41").statusWord == .incorrectData)
    }

    @Test func internalAuthenticateSignsDigestInfo() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let digest = SHA256.hash(data: Self.message(300))
        let digestInfo = bytes("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20") + Array(digest)
        let command = [0x00, 0x88, 0x00, 0x00, UInt8(digestInfo.count)] + digestInfo + [0x00]
        #expect(try session.send(command).statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(command).statusWord == .conditionsOfUseNotSatisfied)
        #expect(try session.send("00 22 41 A4 06 80 01 02 84 01 82").statusWord == .success)
        let signature = try session.send(command)
        #expect(signature.statusWord == .success)
        #expect(Self.isValid(signature.data, digest, key: SimulatorFixture.authenticationKey))
        #expect(!Self.isValid(signature.data, digest, key: SimulatorFixture.signatureKey))
        let tooLong = [UInt8](repeating: 1, count: 103)
        #expect(try session.send([0x00, 0x88, 0x00, 0x00, 103] + tooLong + [0x00]).statusWord == .wrongLength)
    }
    @Test func wrongLeKeepsTheHashAndHostHashFormSigns() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let message = Self.message(100)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.setHashSHA256).statusWord == .success)
        #expect(try session.send(Self.psoHash(SHA256State.cryptolibSplit(message))).statusWord == .success)
        #expect(try session.send(Self.setSignatureSHA256).statusWord == .success)
        #expect(try session.raw("00 2A 9E 9A 80").statusWord == .wrongLe(exact: 0x00))
        let signature = try session.raw("00 2A 9E 9A 00")
        #expect(signature.statusWord == .success)
        #expect(Self.isValid(signature.data, SHA256.hash(data: message), key: SimulatorFixture.signatureKey))
        // Cryptolib "Sign_Hash" (§6.2): the hash as PSO CDS data, a case-4 command answered 6100.
        let digest = SHA256.hash(data: message + message)
        let announced = try session.transmitRaw([0x00, 0x2A, 0x9E, 0x9A, 0x20] + Array(digest) + [0x00])
        #expect(announced.statusWord == .bytesAvailable(0x00))
        let hostHashSignature = try session.raw("00 C0 00 00 00")
        #expect(Self.isValid(hostHashSignature.data, digest, key: SimulatorFixture.signatureKey))
    }
}
