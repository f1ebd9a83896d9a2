import SmartCardCore
import Testing
import VirtualCard

@Suite struct SimulatorPINTests {
    static let wrongPIN: [UInt8] = [0x39, 0x39, 0x39, 0x39]
    static let docpPIN = "00 CB 3F FF 0A 4D 08 70 06 BF 81 01 02 A0 80"
    static let docpPUK = "00 CB 3F FF 0A 4D 08 70 06 BF 81 02 02 A0 80"

    @Test func wrongPINCostsExactlyOneTryAndBlocks() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.verifyPIN(Self.wrongPIN) == .verificationFailed(triesLeft: 2))
        #expect(rig.recorder.last?.pin.triesLeft == 2)
        #expect(try session.verifyPIN(Self.wrongPIN) == .verificationFailed(triesLeft: 1))
        #expect(try session.verifyPIN(Self.wrongPIN) == .authenticationMethodBlocked)
        #expect(rig.recorder.states.map(\.pin.triesLeft) == [2, 1, 0])
        // Blocked stays blocked, even with the right PIN, and costs nothing more.
        #expect(try session.verifyPIN() == .authenticationMethodBlocked)
        #expect(try session.raw("00 20 00 01").statusWord == .authenticationMethodBlocked)
        #expect(rig.recorder.states.count == 3)
        #expect(rig.card.state.pin.isBlocked)
    }

    @Test func burnedTryIsPersistedBeforeTheResponse() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        for _ in 0..<3 { _ = try session.verifyPIN(Self.wrongPIN) }
        // A card rebuilt from the last persisted state (a killed and restarted cps-vcard) is still blocked.
        let rebuilt = try SimulatorRig(state: try #require(rig.recorder.last))
        var rebuiltSession = rebuilt.session()
        #expect(try rebuiltSession.raw("00 20 00 01").statusWord == .authenticationMethodBlocked)
        #expect(try rebuiltSession.verifyPIN() == .authenticationMethodBlocked)
    }

    @Test func callbackRunsBeforeTransmitReturns() throws {
        let recorder = StateRecorder()
        let card = CPS3Card(state: SimulatorFixture.state(), onStateChange: { recorder.record($0) })
        card.powerOn()
        let response = card.process([0x00, 0x20, 0x00, 0x01, 0x04] + Self.wrongPIN)
        // Synchronous: the state is already recorded when the answer comes back.
        #expect(recorder.states.map(\.pin.triesLeft) == [2])
        #expect(response == [0x63, 0xC2])
    }

    @Test func correctPINRestoresTheCounterAndVerifyStatusReportsIt() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
        #expect(try session.verifyPIN(Self.wrongPIN) == .verificationFailed(triesLeft: 2))
        #expect(try session.verifyPIN() == .success)
        #expect(rig.card.state.pin.triesLeft == 3)
        #expect(rig.recorder.last?.pin.triesLeft == 3)
        #expect(try session.raw("00 20 00 01").statusWord == .success)
    }

    @Test func formatErrorsCostNoTry() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.verifyPIN([0x31, 0x32, 0x33, 0x34, 0x35]) == .wrongLength)
        #expect(try session.verifyPIN([0x31, 0x32, 0x61, 0x34]) == .incorrectData)
        #expect(try session.verifyPUK([0x31, 0x32, 0x33, 0x34]) == .wrongLength)
        #expect(rig.card.state.pin.triesLeft == 3)
        #expect(rig.recorder.states.isEmpty)
    }

    @Test func docpReportsCounters() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let pin = try session.send(Self.docpPIN)
        #expect(pin.statusWord == .success)
        #expect(pin.data == bytes("70 16 BF 81 01 12 A0 10 9A 01 03 9B 01 03 A1 08 8C 06 F3 00 00 13 FF 00"))
        _ = try session.verifyPIN(Self.wrongPIN)
        #expect(try session.send(Self.docpPIN).data.containsSubsequence(bytes("9B 01 02")))
        let puk = try session.send(Self.docpPUK)
        #expect(puk.data.containsSubsequence(bytes("9A 01 03 9B 01 03 9C 01 03 9D 02 00 03")))
        // Only with the MF current.
        #expect(try session.send("00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10").statusWord == .success)
        #expect(try session.send(Self.docpPIN).statusWord == .referencedDataNotFound)
    }

    @Test func changeReferenceData() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let newPIN: [UInt8] = [0x34, 0x33, 0x32, 0x31]
        #expect(try session.send([0x00, 0x24, 0x00, 0x01, 0x08] + Self.wrongPIN + newPIN).statusWord
            == .verificationFailed(triesLeft: 2))
        #expect(try session.send([0x00, 0x24, 0x00, 0x01, 0x08] + SimulatorFixture.pin + [0x34, 0x33, 0x78, 0x31])
            .statusWord == .incorrectData)
        #expect(try session.send([0x00, 0x24, 0x00, 0x01, 0x06] + SimulatorFixture.pin + [0x34, 0x33])
            .statusWord == .wrongLength)
        #expect(rig.card.state.pin.triesLeft == 2)
        #expect(try session.send([0x00, 0x24, 0x00, 0x01, 0x08] + SimulatorFixture.pin + newPIN).statusWord == .success)
        #expect(rig.recorder.last?.pin.value == newPIN)
        #expect(try session.verifyPIN() == .verificationFailed(triesLeft: 2))
        #expect(try session.verifyPIN(newPIN) == .success)
    }

    @Test func pukUnblocksThePIN() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        for _ in 0..<3 { _ = try session.verifyPIN(Self.wrongPIN) }
        let newPIN: [UInt8] = [0x35, 0x36, 0x37, 0x38]
        let resetRetryCounter: [UInt8] = [0x00, 0x2C, 0x02, 0x01, 0x04] + newPIN
        #expect(try session.send(resetRetryCounter).statusWord == .securityStatusNotSatisfied)
        #expect(try session.verifyPUK([0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31]) == .verificationFailed(triesLeft: 2))
        #expect(try session.verifyPUK() == .success)
        #expect(try session.send([0x00, 0x2C, 0x02, 0x01, 0x04] + [0x35, 0x36, 0x78, 0x38]).statusWord == .incorrectData)
        #expect(try session.send(resetRetryCounter).statusWord == .success)
        #expect(rig.recorder.last?.unblocksLeft == 2)
        #expect(rig.recorder.last?.pin.triesLeft == 3)
        #expect(rig.card.state.puk.triesLeft == 3)
        #expect(try session.verifyPIN(newPIN) == .success)
    }

    @Test func unblockCounterExhausts() throws {
        let rig = try SimulatorRig(state: SimulatorFixture.state(unblocksLeft: 1))
        var session = rig.session()
        #expect(try session.verifyPUK() == .success)
        let resetRetryCounter: [UInt8] = [0x00, 0x2C, 0x02, 0x01, 0x04] + SimulatorFixture.pin
        #expect(try session.send(resetRetryCounter).statusWord == .success)
        #expect(rig.card.state.unblocksLeft == 0)
        #expect(try session.send(resetRetryCounter).statusWord == .authenticationMethodBlocked)
        #expect(try session.send(Self.docpPUK).data.containsSubsequence(bytes("9D 02 00 00")))
    }

    @Test func resetClearsTheVerifiedPIN() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.verifyPIN() == .success)
        #expect(try session.raw("00 20 00 01").statusWord == .success)
        try rig.connection.reconnect(.reset)
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
        #expect(try session.verifyPIN() == .success)
        rig.card.powerOff()
        rig.card.powerOn()
        #expect(try session.raw("00 20 00 01").statusWord == .verificationFailed(triesLeft: 3))
    }
}
