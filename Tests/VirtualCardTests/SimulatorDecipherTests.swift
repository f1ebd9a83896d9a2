import Foundation
import SmartCardCore
import Testing
import VirtualCard
import _CryptoExtras

/// PSO DECIPHER as Cryptolib drives a CPS3 (cps4-card.md §11.3): MSE SET CT, then the padding indicator 81
/// and the cryptogram in two chained commands; the card removes the PKCS#1 v1.5 padding.
@Suite struct SimulatorDecipherTests {
    static let setConfidentiality = "00 22 41 B8 06 80 01 1A 84 01 82"

    /// `plaintext` encrypted (PKCS#1 v1.5) by OpenSSL with the fixture's authentication public key.
    static func cryptogram(_ plaintext: [UInt8]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vcard-decipher-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem")
        let pem = SimulatorFixture.authenticationKey.publicKey.pemRepresentation
        try pem.write(to: key, atomically: true, encoding: .utf8)
        try Data(plaintext).write(to: directory.appendingPathComponent("in"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "pkeyutl", "-encrypt", "-pubin", "-inkey", key.path,
            "-in", directory.appendingPathComponent("in").path, "-out", directory.appendingPathComponent("out").path,
        ]
        try process.run()
        process.waitUntilExit()
        return Array(try Data(contentsOf: directory.appendingPathComponent("out")))
    }

    /// The two commands of the chain: `10 2A 80 86 FF 81 <254 B>`, `00 2A 80 86 02 <2 B>`.
    static func chain(_ cryptogram: [UInt8], indicator: UInt8 = 0x81) -> [[UInt8]] {
        let data = [indicator] + cryptogram
        return [
            [0x10, 0x2A, 0x80, 0x86, 0xFF] + data.prefix(255),
            [0x00, 0x2A, 0x80, 0x86, UInt8(data.count - 255)] + data.dropFirst(255),
        ]
    }

    @Test("after VERIFY and MSE SET CT the chain returns the plaintext, unpadded")
    func deciphers() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let secret = Array("session key of thirty-two bytes!".utf8)
        let commands = Self.chain(try Self.cryptogram(secret))
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send(Self.setConfidentiality).statusWord == .success)
        #expect(try session.send(commands[0]).statusWord == .success)
        let answer = try session.send(commands[1])
        #expect(answer.statusWord == .success)
        #expect(answer.data == secret)
    }

    @Test("refusals: no PIN 6982, no MSE 6985, wrong indicator 6A80, a chain broken by another command 6700")
    func refusals() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let cryptogram = try Self.cryptogram([1, 2, 3])
        let commands = Self.chain(cryptogram)
        #expect(try session.send(Self.setConfidentiality).statusWord == .success)
        #expect(try session.send(commands[0]).statusWord == .success)
        #expect(try session.send(commands[1]).statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPIN() == .success)
        let fresh = try SimulatorRig()
        var unset = fresh.session()
        #expect(try unset.verifyPIN() == .success)
        #expect(try unset.send(commands[0]).statusWord == .success)
        #expect(try unset.send(commands[1]).statusWord == .conditionsOfUseNotSatisfied)
        #expect(try session.send(Self.setConfidentiality).statusWord == .success)
        let wrong = Self.chain(cryptogram, indicator: 0x00)
        #expect(try session.send(wrong[0]).statusWord == .success)
        #expect(try session.send(wrong[1]).statusWord == .incorrectData)
        #expect(try session.send(commands[0]).statusWord == .success)
        #expect(try session.send("00 84 00 00 08").statusWord == .success)  // ends the chain
        #expect(try session.send(commands[1]).statusWord == .wrongLength)
        #expect(try session.send(commands[0]).statusWord == .success)
        #expect(try session.send(commands[1]).data == [1, 2, 3])
    }

    @Test("MSE SET CT accepts only algorithm 1A with key 82")
    func confidentialityTemplate() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 22 41 B8 06 80 01 1A 84 01 81").statusWord == .referencedDataNotFound)
        #expect(try session.send("00 22 41 B8 06 80 01 02 84 01 82").statusWord == .incorrectData)
    }
}
