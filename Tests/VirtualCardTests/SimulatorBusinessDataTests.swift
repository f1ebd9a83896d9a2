import SmartCardCore
import Testing
import VirtualCard

/// The business-data files the DODF names (cryptolib-pkcs11.md §6): free reads, situations behind the PIN,
/// CPS_DATA the only file UPDATE BINARY may write, and only after VERIFY.
@Suite struct SimulatorBusinessDataTests {
    static let cpsData: [UInt8] = [0x3F, 0x00, 0x00, 0x01, 0xD1, 0x07]

    @Test("the ODF names a DODF whose objects point at files under 3F00/0001")
    func odfListsDODF() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let odf = try session.readFile(path: [0x3F, 0x00, 0x00, 0x01, 0x50, 0x31])
        #expect(odf.contains(0xA7))
        let dodf = try session.readFile(path: [0x3F, 0x00, 0x00, 0x01, 0x70, 0x04])
        #expect(String(decoding: dodf, as: UTF8.self).contains("CPS_DATA"))
        #expect(String(decoding: dodf, as: UTF8.self).contains("CPS_ACTIVITY_01_PS"))
        #expect(try session.readFile(path: Self.cpsData) == [UInt8](repeating: 0, count: 256))
    }

    @Test("CPS_DATA: 6982 before VERIFY; written after, persisted; past the end 6700; other files 6982")
    func updateCPSData() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send([0x00, 0xA4, 0x09, 0x0C, 0x06] + Self.cpsData).statusWord == .success)
        #expect(try session.send("00 D6 00 00 03 01 02 03").statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send([0x00, 0xA4, 0x09, 0x0C, 0x06] + Self.cpsData).statusWord == .success)
        #expect(try session.send("00 D6 00 FE 02 0A 0B").statusWord == .success)
        #expect(try session.send("00 D6 00 FF 02 0A 0B").statusWord == .wrongLength)
        #expect(rig.recorder.last?.cpsData?.suffix(2) == [0x0A, 0x0B])
        #expect(try session.readFile(path: Self.cpsData).suffix(3) == [0x00, 0x0A, 0x0B])
        #expect(try session.send("00 A4 09 0C 06 3F 00 00 01 D1 01").statusWord == .success)
        #expect(try session.send("00 D6 00 00 01 00").statusWord == .securityStatusNotSatisfied)
    }

    @Test("a situation file (D120) is read only once the PIN is verified")
    func situationNeedsPIN() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 A4 09 0C 06 3F 00 00 01 D1 20").statusWord == .success)
        #expect(try session.send("00 B0 00 00 04").statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send("00 B0 00 00 01").data == [0xEE])
    }
}
