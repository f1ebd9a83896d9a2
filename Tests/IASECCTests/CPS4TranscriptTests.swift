import Foundation
import IASECC
import SmartCardCore
import Testing

/// The CPS4 driver against transcripts: the exact commands of cps4-card.md (§3, §6.2, §7.1, §8) and the
/// answers a real CPS4 gives there, played by a connection that fails on any other byte. These do not rely
/// on our simulator agreeing with the driver.
@Suite("CPS4 driver transcripts from the reference")
struct CPS4TranscriptTests {
    static let atr: [UInt8] = [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44]
    static let selectChipDoc = "01 A4 04 0C 08 80 25 00 00 01 FF 01 00"
    static let selectISD = "01 A4 04 0C 07 A0 00 00 01 51 00 00"
    static let selectCPS2ter = "00 A4 04 0C 08 80 25 00 00 01 FF 00 02"
    static let digest = [UInt8](repeating: 0xAB, count: 32)
    static let signature = [UInt8](repeating: 0x5C, count: 256)

    static func signRequest(_ mechanism: SignatureMechanism = .rsaPKCS, role: KeyRole = .signature) -> SignatureRequest {
        SignatureRequest(
            role: role, mechanism: mechanism, pssHash: mechanism == .rsaPKCSPSS ? .sha256 : nil,
            data: mechanism == .rsaPKCSPSS ? digest : SignatureHash.sha256.digestInfoPrefix + digest)
    }

    @Test("§7.1 signature key, PKCS#1 v1.5 over a SHA-256 DigestInfo: MSE 91 02 28 90, PSO CDS with the bare hash")
    func signatureKeyPKCS1() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "90 00"),
            ("01 2A 9E 9A 20 " + Hex.string(from: Self.digest) + " 00", Hex.string(from: Self.signature) + " 90 00"),
        ])
        let signature = try card.withTransaction { try CPS4Driver().sign(&$0, Self.signRequest()) }
        #expect(signature == Self.signature)
        #expect(card.finished)
    }

    @Test("§7.1 PSS with the authentication key: MSE 91 02 2C A0")
    func authenticationKeyPSS() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 2C A0", "90 00"),
            ("01 2A 9E 9A 20 " + Hex.string(from: Self.digest) + " 00", Hex.string(from: Self.signature) + " 90 00"),
        ])
        _ = try card.withTransaction { try CPS4Driver().sign(&$0, Self.signRequest(.rsaPKCSPSS, role: .authentication)) }
        #expect(card.finished)
    }

    @Test("§7.1 CKM_RSA_PKCS on the authentication key: host type-1 padding, chained PSO DECIPHER 255 + 1 bytes")
    func authenticationKeyRawRSA() throws {
        let input = SignatureHash.sha256.digestInfoPrefix + Self.digest
        let block = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: 256 - 3 - input.count) + [0x00] + input
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 22 41 B8 03 83 01 20", "90 00"),
            ("11 2A 80 86 FF " + Hex.string(from: Array(block.prefix(255))), "90 00"),
            ("01 2A 80 86 01 " + Hex.string(from: Array(block.suffix(1))) + " 00", Hex.string(from: Self.signature) + " 90 00"),
        ])
        let signature = try card.withTransaction { try CPS4Driver().sign(&$0, Self.signRequest(role: .authentication)) }
        #expect(signature == Self.signature)
        #expect(card.finished)
    }

    @Test("§6.2 counters by VERIFY without data: 63C2 is two tries, 6983 blocked, 6881 reselects once")
    func counters() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 20 00 01", "68 81"),
            (Self.selectISD, "90 00"), (Self.selectCPS2ter, "90 00"), (Self.selectChipDoc, "90 00"),
            ("01 20 00 01", "63 C2"),
            ("01 20 00 02", "69 83"),
        ])
        let status = try card.withTransaction {
            try CPS4Driver(references: .init(pin: 1, puk: 2)).readPINStatus(&$0)
        }
        #expect(status.pin.triesLeft == 2 && status.pin.maxTries == 3)
        #expect(status.puk.triesLeft == 0)
        #expect(card.finished)
    }

    @Test("§3/§8 a 6985 on MSE (context lost, issue #1722): ISD, CPS2ter, ChipDoc reselect, then MSE again once")
    func lostContextIsRecoveredOnce() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "69 85"),
            (Self.selectISD, "6A 82"), (Self.selectCPS2ter, "90 00"), (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "90 00"),
            ("01 2A 9E 9A 20 " + Hex.string(from: Self.digest) + " 00", Hex.string(from: Self.signature) + " 90 00"),
        ])
        _ = try card.withTransaction { try CPS4Driver().sign(&$0, Self.signRequest()) }
        #expect(card.finished)
    }

    @Test("a VERIFY the card answers 6985 is not sent again, and a 6982 after a reselect is a lost context, not a logout")
    func verifyIsNeverReplayed() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 20 00 01 04 31 32 33 34", "69 85"),
        ])
        var bytes = Array("1234".utf8)
        let pin = SecretBytes(consuming: &bytes)
        #expect(throws: IASECCError.self) {
            try card.withTransaction { try CPS4Driver(references: .init(pin: 1, puk: 2)).verifyPIN(&$0, pin) }
        }
        #expect(card.finished, "exactly one VERIFY")
        let lost = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "69 85"),
            (Self.selectISD, "90 00"), (Self.selectCPS2ter, "90 00"), (Self.selectChipDoc, "90 00"),
            ("01 22 81 B6 04 91 02 28 90", "90 00"),
            ("01 2A 9E 9A 20 " + Hex.string(from: Self.digest) + " 00", "69 82"),
        ])
        let error = #expect(throws: IASECCError.self) {
            try lost.withTransaction { try CPS4Driver().sign(&$0, Self.signRequest()) }
        }
        #expect(error?.code == .contextLost)
        #expect(lost.finished)
    }

    @Test("§6.3 unblock: VERIFY PUK, RESET RETRY COUNTER 01 2C 03 81, CHANGE 01 24 01 01 with the new PIN")
    func unblock() throws {
        let card = ScriptedCard(atr: Self.atr, [
            (Self.selectChipDoc, "90 00"),
            ("01 20 00 02 08 31 32 33 34 35 36 37 38", "90 00"),
            ("01 2C 03 81", "90 00"),
            ("01 24 01 01 04 35 36 37 38", "6A 80"),
        ])
        var pukBytes = Array("12345678".utf8)
        var pinBytes = Array("5678".utf8)
        let puk = SecretBytes(consuming: &pukBytes)
        let pin = SecretBytes(consuming: &pinBytes)
        // Cryptolib 5.2 reports success whatever CHANGE answers (§13); the driver reports the 6A80.
        #expect(throws: IASECCError.self) {
            try card.withTransaction { try CPS4Driver(references: .init(pin: 1, puk: 2)).unblockPIN(&$0, puk: puk, newPIN: pin) }
        }
        #expect(card.finished)
    }
}

/// A card that expects exactly the listed commands, in order, and answers each as listed. Any other
/// command fails the test and answers 6F00.
final class ScriptedCard: CardConnection, @unchecked Sendable {
    let readerName = "Scripted CPS4 reader"
    let atr: ATR
    private var script: [(command: [UInt8], answer: [UInt8])]
    private var position = 0

    init(atr: [UInt8], _ script: [(String, String)]) {
        self.atr = try! ATR(bytes: atr)
        self.script = script.map { (Hex.bytes($0.0) ?? [], Hex.bytes($0.1) ?? []) }
    }

    var finished: Bool { position == script.count }

    func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] {
        guard position < script.count else {
            Issue.record("unexpected extra command \(Hex.string(from: command))")
            return [0x6F, 0x00]
        }
        let step = script[position]
        position += 1
        #expect(Hex.string(from: command) == Hex.string(from: step.command), "command \(position)")
        return step.answer
    }

    func beginTransaction() throws(CardError) {}
    func endTransaction(_ disposition: CardDisposition) throws(CardError) {}
    func reconnect(_ initialization: CardDisposition) throws(CardError) {}
    func disconnect(_ disposition: CardDisposition) {}
}
