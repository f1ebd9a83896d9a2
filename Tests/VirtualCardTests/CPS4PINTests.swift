import SmartCardCore
import Testing
import VirtualCard

/// PIN and PUK of the virtual CPS4 (cps4-card.md §6): counters by empty VERIFY, CHANGE (P1=01) and
/// RESET RETRY COUNTER (P1=03) + CHANGE, on the persistent counters.
@Suite struct CPS4PINTests {
    @Test func emptyVerifyReportsTheCounterAndSpendsNothing() {
        let rig = CPS4Rig()
        rig.open()
        #expect(rig.send("01 20 00 81").sw == 0x63C3)
        #expect(rig.verifyPIN(Array("9999".utf8)) == 0x63C2)
        // Both forms of the empty VERIFY (T=1 case 1, T=0 P3=00) report without spending.
        #expect(rig.send("01 20 00 81").sw == 0x63C2)
        #expect(rig.send("01 20 00 81 00").sw == 0x63C2)
        #expect(rig.card.state.pin.triesLeft == 2)
        #expect(rig.send("01 20 00 82").sw == 0x63C3)
        #expect(rig.verifyPIN() == 0x9000)
        #expect(rig.send("01 20 00 81").sw == 0x9000)
        #expect(rig.card.state.pin.triesLeft == 3)
        #expect(rig.recorder.last?.pin.triesLeft == 3)
    }

    @Test func aBlockedPINAnswers6983() {
        var state = SimulatorFixture.state()
        state.pin.triesLeft = 1
        let rig = CPS4Rig(state: state)
        rig.open()
        #expect(rig.verifyPIN(Array("0000".utf8)) == 0x6983)
        #expect(rig.send("01 20 00 81").sw == 0x6983)
        #expect(rig.verifyPIN() == 0x6983)
        #expect(rig.recorder.last?.pin.triesLeft == 0)
    }

    @Test func changeNeedsTheVerifiedPINAndTakesTheNewValueOnly() {
        let rig = CPS4Rig()
        rig.open()
        #expect(rig.send("01 24 01 81 04 34 33 32 31").sw == 0x6982)
        #expect(rig.verifyPIN() == 0x9000)
        #expect(rig.send("01 24 00 81 08 31 32 33 34 34 33 32 31").sw == 0x6A86)
        #expect(rig.send("01 24 01 81 04 34 33 32 31").sw == 0x9000)
        #expect(rig.card.state.pin.value == Array("4321".utf8))
        #expect(rig.recorder.last?.pin.value == Array("4321".utf8))
        #expect(rig.verifyPIN() == 0x63C2)
        #expect(rig.verifyPIN(Array("4321".utf8)) == 0x9000)
    }

    @Test func resetRetryCounterAfterThePUKThenChange() {
        var state = SimulatorFixture.state(unblocksLeft: 2)
        state.pin.triesLeft = 0
        let rig = CPS4Rig(state: state)
        rig.open()
        #expect(rig.send("01 2C 03 81").sw == 0x6982)
        #expect(rig.send("01 24 01 81 04 35 35 35 35").sw == 0x6982)
        #expect(rig.verifyPUK() == 0x9000)
        // T=0 form (P3=00) of the case-1 RESET RETRY COUNTER.
        #expect(rig.send("01 2C 03 81 00").sw == 0x9000)
        #expect(rig.card.state.pin.triesLeft == 3)
        #expect(rig.card.state.unblocksLeft == 1)
        #expect(rig.send("01 24 01 81 04 35 35 35 35").sw == 0x9000)
        #expect(rig.card.state.pin.value == Array("5555".utf8))
        #expect(rig.send("01 20 00 81").sw == 0x9000)
    }

    @Test func unblocksRunOut() {
        let rig = CPS4Rig(state: SimulatorFixture.state(unblocksLeft: 0))
        rig.open()
        #expect(rig.verifyPUK() == 0x9000)
        #expect(rig.send("01 2C 03 81").sw == 0x6983)
    }
}
