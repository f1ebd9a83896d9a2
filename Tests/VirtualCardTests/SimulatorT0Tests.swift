import SmartCardCore
import Testing
import VirtualCard

@Suite struct SimulatorT0Tests {
    static let selectIAS = "00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10"

    @Test func atrIsTheCPS3ContactATR() throws {
        let rig = try SimulatorRig()
        #expect(rig.card.atr == bytes("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"))
        #expect(rig.connection.atr.isT0Only)
        #expect(CardKind(atr: rig.card.atr) == .cps3Contact)
    }

    @Test func caseFourAnswersBytesAvailableThenGetResponse() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let announced = try session.raw(Self.selectIAS)
        let count = try #require(announced.statusWord.bytesAvailableCount)
        #expect(announced.data.isEmpty)
        // Fetch in two parts: 61yy announces the rest.
        let first = try session.transmitRaw([0x00, 0xC0, 0x00, 0x00, 0x04])
        #expect(first.data.count == 4)
        #expect(first.statusWord.bytesAvailableCount == count - 4)
        let rest = try session.transmitRaw([0x00, 0xC0, 0x00, 0x00, UInt8(count - 4)])
        #expect(rest.statusWord == .success)
        let fcp = first.data + rest.data
        #expect(fcp.first == 0x62)
        #expect(fcp.count == count)
        // Nothing left.
        #expect(try session.raw("00 C0 00 00 04").statusWord == .conditionsOfUseNotSatisfied)
    }

    @Test func getResponseWithTooLargeLeAnswersExactLength() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let count = try #require(try session.raw(Self.selectIAS).statusWord.bytesAvailableCount)
        let tooMuch = try session.transmitRaw([0x00, 0xC0, 0x00, 0x00, UInt8(count + 1)])
        #expect(tooMuch.statusWord == .wrongLe(exact: UInt8(count)))
        #expect(try session.transmitRaw([0x00, 0xC0, 0x00, 0x00, UInt8(count)]).data.count == count)
    }

    @Test func anotherCommandDropsThePendingResponse() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw(Self.selectIAS).statusWord.bytesAvailableCount != nil)
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
        #expect(try session.raw("00 C0 00 00 10").statusWord == .conditionsOfUseNotSatisfied)
    }

    @Test func caseTwoWithWrongLeAnswers6Cxx() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw("00 84 00 00 10").statusWord == .wrongLe(exact: 8))
        let challenge = try session.raw("00 84 00 00 08")
        #expect(challenge.statusWord == .success)
        #expect(challenge.data.count == 8)
        // CardSession re-sends with the exact Le by itself.
        let resent = try session.send("00 84 00 00 10")
        #expect(resent.data.count == 8)
        #expect(resent.data != challenge.data)
        #expect(session.exchangeCount == 4)  // raw, raw, then 6C08 and the re-send
    }

    @Test func twoHundredFiftySixByteResponseGoesThrough6100() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.verifyPIN() == .success)
        #expect(try session.send("00 22 41 A4 06 80 01 02 84 01 82").statusWord == .success)
        let digestInfo = [UInt8](repeating: 0x11, count: 51)
        let announced = try session.transmitRaw([0x00, 0x88, 0x00, 0x00, 0x33] + digestInfo + [0x00])
        #expect(announced.statusWord == .bytesAvailable(0x00))
        let signature = try session.raw("00 C0 00 00 00")
        #expect(signature.statusWord == .success)
        #expect(signature.data.count == 256)
    }

    @Test func statusWordsForUnsupportedCommands() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw("00 12 00 00").statusWord == .instructionNotSupported)
        // CLA A0 is the CPS2ter application (SimulatorCPS2terTests); other proprietary classes are refused.
        #expect(try session.raw("B0 A4 00 00 02 3F 00").statusWord == .classNotSupported)
        #expect(try session.raw("80 CA 00 00 00").statusWord == .classNotSupported)
        #expect(try session.raw("00 A4 04 0C 05 E8").statusWord == .wrongLength)
        #expect(try session.transmitRaw([0x00, 0xA4]).statusWord == .wrongLength)
    }
}
