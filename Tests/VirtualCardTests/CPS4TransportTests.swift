import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// T=0 and T=1 framing of the virtual CPS4 (cps4-card.md §2, §3, §7.1) and its lost-context fault (#1722).
@Suite struct CPS4TransportTests {
    static let selectSerialT0 = "01 A4 08 00 02 D0 03"

    @Test func t0OnlyCardAnswers61xxAndGetResponseUsesTheChannelClass() {
        let rig = CPS4Rig(atr: .t0)
        rig.open()
        let announced = rig.send(Self.selectSerialT0)
        #expect(announced.data.isEmpty)
        #expect(announced.sw >> 8 == 0x61)
        let count = UInt8(announced.sw & 0xFF)
        let fci = rig.send([0x01, 0xC0, 0x00, 0x00, count])
        #expect(fci.sw == 0x9000 && fci.data.first == 0x6F && fci.data.count == Int(count))
        // Even with an Le, a T=0-only card cannot return case-4 data at once.
        #expect(rig.send(Self.selectSerialT0 + " 00").sw >> 8 == 0x61)
        // A signature: 6100 (256 bytes), then GET RESPONSE Le 00.
        #expect(rig.verifyPIN() == 0x9000)
        #expect(rig.send("01 22 81 B6 04 91 02 28 90").sw == 0x9000)
        let hash = [UInt8](repeating: 0x42, count: 32)
        #expect(rig.send([0x01, 0x2A, 0x9E, 0x9A, 0x20] + hash).sw == 0x6100)
        let signature = rig.send("01 C0 00 00 00")
        #expect(signature.sw == 0x9000 && signature.data.count == 256)
        #expect(rig.send("01 C0 00 00 00").sw == 0x6985)
    }

    @Test func dualProtocolCardAnswersDirectlyWhenLeIsThere() {
        let rig = CPS4Rig()
        rig.open()
        let direct = rig.send(Self.selectSerialT0 + " 00")
        #expect(direct.sw == 0x9000 && direct.data.first == 0x6F)
        // The same command in its T=0 form (no Le) still works.
        #expect(rig.send(Self.selectSerialT0).sw >> 8 == 0x61)
    }

    @Test func lostContextFaultAnswers6985OnceUntilChipDocIsSelectedAgain() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cps4-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = directory.appendingPathComponent("plan")
        try Data("mode=off".utf8).write(to: plan)
        let rig = CPS4Rig(faults: CardFaultInjector(planPath: plan.path))
        rig.open()
        #expect(rig.verifyPIN() == 0x9000)
        try Data("mode=\(CardFaultInjector.lostContextMode)\n".utf8).write(to: plan)
        // Channel 0 and GET RESPONSE are not what the fault hits; the next other ChipDoc command is.
        #expect(rig.send("00 A4 04 0C 08 80 25 00 00 01 FF 00 02").sw == 0x9000)
        #expect(rig.send("01 C0 00 00 04").sw == 0x6985)  // nothing pending: the genuine answer
        #expect(rig.send("01 A4 08 0C 02 D0 03").sw == 0x6985)
        #expect(rig.send("01 B0 00 00 0C").sw == 0x6881)
        rig.open()
        #expect(rig.send("01 A4 08 0C 02 D0 03").sw == 0x9000)
        #expect(rig.send("01 B0 00 00 0C").sw == 0x9000)
        // The PIN was not compared, so nothing was spent; the stats count the fault, once.
        #expect(rig.send("01 B0 00 00 0C").sw == 0x9000)
        #expect(rig.card.state.pin.triesLeft == 3)
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plan.path + ".stats")))
        let faults = (stats as? [String: Any])?["faults"] as? [String: Int]
        #expect(faults?[CardFaultInjector.lostContextMode] == 1)
    }
}
