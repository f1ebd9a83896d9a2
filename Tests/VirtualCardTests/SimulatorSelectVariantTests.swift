import SmartCardCore
import Testing
import VirtualCard

/// Every SELECT form cps4-card.md §11.4 lists, with the answer a real CPS3 gives, and the FCPs of §14.2.
@Suite struct SimulatorSelectVariantTests {
    static let pinDOCP = "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80"
    static let application = "00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10"

    @Test("3F00 selects the MF whatever P1 (00, 02, 09), and the MF is then current for GET DATA")
    func masterFileByEveryForm() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        for select in ["00 A4 02 0C 02 3F 00", "00 A4 00 0C 02 3F 00", "00 A4 09 0C 02 3F 00"] {
            #expect(try session.send(Self.application).statusWord == .success)
            // From the application DF the CHV SDO is out of reach: proves the next SELECT moved back.
            #expect(try session.send(Self.pinDOCP).statusWord == .referencedDataNotFound)
            #expect(try session.send(select).statusWord == .success, "\(select)")
            #expect(try session.send(Self.pinDOCP).statusWord == .success, "after \(select)")
        }
        let withFCP = try session.send("00 A4 09 04 02 3F 00")
        #expect(withFCP.statusWord == .success)
        #expect(withFCP.data.first == 0x62)
    }

    @Test("Cryptolib's login path: SELECT MF with P1=02 then VERIFY succeeds")
    func selectBeforeVerify() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 A4 09 0C 04 3F 00 00 01").statusWord == .success)
        #expect(try session.send("00 A4 02 0C 02 3F 00").statusWord == .success)
        #expect(try session.verifyPIN() == .success)
    }

    @Test("the root AID (EF.ATR 4F) selects the MF, with and without Le; the IAS AID returns its FCP")
    func byName() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send(Self.application).statusWord == .success)
        #expect(try session.send("00 A4 04 0C 08 80 25 00 00 01 FF 01 00").statusWord == .success)
        #expect(try session.send(Self.pinDOCP).statusWord == .success)
        let withLe = try session.send("00 A4 04 04 08 80 25 00 00 01 FF 01 00 00")
        #expect(withLe.statusWord == .success)
        #expect(withLe.data.first == 0x62)
        let ias = try session.send("00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")
        #expect(ias.statusWord == .success)
        #expect(ias.data.first == 0x62)
    }

    @Test("what a real card refuses: P2=00 (6A86), a relative path from DF 0001 and EF_ACTUA (6A82)")
    func refusals() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 A4 00 00 02 3F 00").statusWord == .incorrectP1P2)
        #expect(try session.send("00 A4 04 00 08 80 25 00 00 01 FF 01 00").statusWord == .incorrectP1P2)
        #expect(try session.send("00 A4 09 0C 04 3F 00 00 01").statusWord == .success)
        #expect(try session.send("00 A4 09 04 02 2F 00").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 09 04 04 3F 00 D0 10").statusWord == .fileNotFound)
    }

    @Test("EF.DIR and EF.ATR carry the real FCP's access rules; EF.DIR names the application path 3F00/0001")
    func mfFilesFCP() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let dir = try session.send("00 A4 09 04 04 3F 00 2F 00")
        #expect(dir.statusWord == .success)
        #expect(dir.data.windows(ofCount: 10).contains(bytes("82 01 01 83 02 2F 00 88 01 F0")))
        #expect(Array(dir.data.suffix(23)) == bytes("A1 12 8C 07 7B 45 FF FF FF 45 00 9C 07 7B FF FF FF FF FF 00 8A 01 05"))
        let content = try session.readFile(path: [0x3F, 0x00, 0x2F, 0x00])
        #expect(content.windows(ofCount: 6).contains(bytes("51 04 3F 00 00 01")))
    }
}

extension Array where Element == UInt8 {
    fileprivate func windows(ofCount count: Int) -> [[UInt8]] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { Array(self[$0..<($0 + count)]) }
    }
}
