import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// The CPS2ter application on CLA A0 beside IAS (cps3-card.md §10, cps4-card.md §11.3, §11.5).
@Suite struct SimulatorCPS2terTests {
    @Test("SELECT answers 9Fxx and GET RESPONSE gives the FCI 85 size FID type; READ BINARY after VERIFY")
    func selectAndRead() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw("A0 A4 00 00 02 3F 00").statusWord.rawValue == 0x9F09)
        #expect(try session.raw("A0 A4 00 00 02 40 10").statusWord.rawValue == 0x9F09)
        let fci = try session.raw("A0 C0 00 00 09")
        #expect(fci.statusWord == .success)
        #expect(Array(fci.data.prefix(2)) == [0x85, 0x07])
        #expect(Array(fci.data[4...6]) == [0x40, 0x10, 0x04])  // FID, type EF
        let size = Int(fci.data[2]) << 8 | Int(fci.data[3])
        #expect(try session.raw("A0 B0 00 00 10").statusWord.rawValue == 0x9804)  // PIN not verified
        #expect(try session.verifyPIN() == .success)
        let read = try session.raw("A0 B0 00 00 \(String(format: "%02X", size))")
        #expect(read.statusWord == .success)
        #expect(read.data.count == size)
    }

    @Test("the billing situation sits in DF 7F01; unknown FIDs answer 9404; IAS answers normally in between")
    func billingAndCoexistence() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw("A0 A4 00 00 02 40 00").statusWord.rawValue == 0x9404)
        #expect(try session.raw("A0 A4 00 00 02 7F 01").statusWord.rawValue == 0x9F09)
        #expect(try session.send("00 A4 09 0C 04 3F 00 00 01").statusWord == .success)
        #expect(try session.raw("A0 A4 00 00 02 40 00").statusWord.rawValue == 0x9F09)
        #expect(try session.raw("A0 A4 00 00 02 40 1F").statusWord.rawValue == 0x9404)
        #expect(try session.raw("A0 20 00 00 08 31 32 33 34 FF FF FF FF").statusWord == .instructionNotSupported)
        #expect(try session.send("00 A4 09 04 04 3F 00 D0 03").statusWord == .success)
    }

    @Test("a card set to refuse IAS after CPS2ter answers 6E00 until the root AID is selected")
    func refusesIASAfterCPS2ter() throws {
        var state = SimulatorFixture.state()
        state.refusesIASAfterCPS2ter = true
        let rig = try SimulatorRig(state: state)
        var session = rig.session()
        #expect(try session.raw("A0 A4 00 00 02 3F 00").statusWord.rawValue == 0x9F09)
        #expect(try session.send("00 A4 09 0C 02 3F 00").statusWord == .classNotSupported)
        #expect(try session.raw("00 A4 04 0C 08 80 25 00 00 01 FF 01 00").statusWord == .success)
        #expect(try session.send("00 A4 09 0C 02 3F 00").statusWord == .success)
    }
}
