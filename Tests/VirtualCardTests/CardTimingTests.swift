import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// `cps-vcard --timing real`: the model's figures for known ATRs and APDUs, and how a card is served with it.
@Suite("Card timing model")
struct CardTimingTests {
    static let cps3ATR: [UInt8] = [0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90, 0x00]
    static let cps4ATR: [UInt8] = [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44]
    static let cps4T0ATR: [UInt8] = [0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x00]

    static func milliseconds(_ duration: Duration) -> Double { duration.secondsValue * 1000 }

    @Test("CPS3: no TA1, so Fi/Di 372/1 at 3.5712 MHz, 9600 bit/s, T=0, 12 etu a character")
    func cps3Rate() {
        let timing = CardTiming(atr: Self.cps3ATR, generation: .cps3)
        #expect((timing.fi, timing.di) == (372, 1))
        #expect(timing.bitsPerSecond == 9600)
        #expect(timing.transmissionProtocol == .t0)
        #expect(timing.etuPerCharacter == 12)
        #expect(timing.rsaTime == CardTiming.rsaCPS3)
    }

    @Test("CPS4, both ATRs: TA1=18 gives Fi 372, Di 12: 115 200 bit/s; T=0 is offered first, so T=0")
    func cps4Rate() {
        for atr in [Self.cps4ATR, Self.cps4T0ATR] {
            let timing = CardTiming(atr: atr, generation: .cps4)
            #expect((timing.fi, timing.di) == (372, 12))
            #expect(timing.bitsPerSecond == 115_200)
            #expect(timing.transmissionProtocol == .t0)
            #expect(timing.etuPerCharacter == 12)
            #expect(timing.rsaTime == CardTiming.rsaCPS4)
        }
    }

    @Test("a CPS3 READ BINARY of 0xE7 bytes: 5 + 1 + 231 + 2 characters at 9600 bit/s, plus 2 ms")
    func cps3ReadBinary() {
        let timing = CardTiming(atr: Self.cps3ATR, generation: .cps3)
        let command: [UInt8] = [0x00, 0xB0, 0x00, 0x00, 0xE7]
        let response = [UInt8](repeating: 0x5A, count: 0xE7) + [0x90, 0x00]
        #expect(timing.characters(command: command, response: response) == 239)
        // 239 × 12 / 9600 s = 298.75 ms.
        #expect(abs(Self.milliseconds(timing.transferTime(command: command, response: response)) - 298.75) < 0.001)
        #expect(abs(Self.milliseconds(timing.duration(command: command, response: response)) - 300.75) < 0.001)
    }

    @Test("a CPS4 READ BINARY of 256 bytes: 264 characters at 115 200 bit/s = 27.5 ms")
    func cps4ReadBinary() {
        let timing = CardTiming(atr: Self.cps4ATR, generation: .cps4)
        let command: [UInt8] = [0x01, 0xB0, 0x00, 0x00, 0x00]
        let response = [UInt8](repeating: 0, count: 256) + [0x90, 0x00]
        #expect(timing.characters(command: command, response: response) == 264)
        #expect(abs(Self.milliseconds(timing.transferTime(command: command, response: response)) - 27.5) < 0.001)
    }

    @Test("T=0 framing: Le of a case-4 APDU is not sent, VERIFY data is, and 61xx carries no data")
    func t0Framing() {
        let timing = CardTiming(atr: Self.cps3ATR, generation: .cps3)
        let verify: [UInt8] = [0x00, 0x20, 0x00, 0x01, 0x04, 0x31, 0x32, 0x33, 0x34]
        #expect(timing.characters(command: verify, response: [0x90, 0x00]) == 12)
        let internalAuthenticate: [UInt8] = [0x00, 0x88, 0x00, 0x00, 0x33] + [UInt8](repeating: 1, count: 0x33) + [0x00]
        #expect(timing.characters(command: internalAuthenticate, response: [0x61, 0x00]) == 5 + 1 + 0x33 + 2)
        #expect(timing.characters(command: [0x00, 0xA4, 0x00, 0x0C], response: [0x90, 0x00]) == 7)
    }

    @Test("private-key operations cost the card's RSA time, only when the card did them")
    func rsaWork() {
        let cps3 = CardTiming(atr: Self.cps3ATR, generation: .cps3)
        let cds: [UInt8] = [0x00, 0x2A, 0x9E, 0x9A, 0x00]
        // 7 characters (8.75 ms) + 2 ms + 150 ms.
        #expect(abs(Self.milliseconds(cps3.duration(command: cds, response: [0x61, 0x00])) - 160.75) < 0.001)
        #expect(cps3.processingTime(command: cds, response: [0x69, 0x82]) == CardTiming.perCommand)
        let hash: [UInt8] = [0x00, 0x2A, 0x90, 0xA0, 0x02, 0x90, 0x00]
        #expect(cps3.processingTime(command: hash, response: [0x90, 0x00]) == CardTiming.perCommand + CardTiming.psoHash)

        let cps4 = CardTiming(atr: Self.cps4ATR, generation: .cps4)
        let chunk: [UInt8] = [0x11, 0x2A, 0x80, 0x86, 0x01, 0x00]
        let last: [UInt8] = [0x01, 0x2A, 0x80, 0x86, 0x01, 0x00]
        #expect(cps4.processingTime(command: chunk, response: [0x90, 0x00]) == CardTiming.perCommand)
        #expect(cps4.processingTime(command: last, response: [0x61, 0x00]) == CardTiming.perCommand + CardTiming.rsaCPS4)
        let cps2ter: [UInt8] = [0xA0, 0x88, 0x00, 0x00, 0x01, 0x00]
        #expect(cps4.processingTime(command: cps2ter, response: [0x90, 0x00]) == CardTiming.perCommand)
    }

    @Test("a T=1 ATR (TD1=81, TA3=FE): 4 bytes of block framing each way, IFSC from TA3")
    func t1Framing() {
        let timing = CardTiming(atr: [0x3B, 0x80, 0x81, 0x31, 0xFE, 0x45], rsaTime: .milliseconds(100))
        #expect(timing.transmissionProtocol == .t1)
        #expect(timing.ifsc == 0xFE)
        #expect(timing.bitsPerSecond == 9600)
        let challenge: [UInt8] = [0x00, 0x84, 0x00, 0x00, 0x08]
        #expect(timing.characters(command: challenge, response: [UInt8](repeating: 7, count: 8) + [0x90, 0x00]) == 23)
    }
}

@Suite("Timed card serving")
struct TimedCardTests {
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var durations: [Duration] = []
        func record(_ duration: Duration) { lock.withLock { durations.append(duration) } }
        var all: [Duration] { lock.withLock { durations } }
    }

    @Test("the card waits the modelled time, less its own compute time, and answers as the inner card")
    func waitsTheModelledTime() {
        let recorder = Recorder()
        let inner = CPS3Card(state: TestCards.defaultState, faults: nil)
        let timed = TimedCard(inner, timing: CardTiming(atr: inner.atr, generation: .cps3)) { recorder.record($0) }
        timed.powerOn()
        let select: [UInt8] = [0x00, 0xA4, 0x09, 0x0C, 0x02, 0x3F, 0x00]
        #expect(timed.process(select) == [0x90, 0x00])
        #expect(timed.atr == inner.atr)
        let modelled = timed.timing.duration(command: select, response: [0x90, 0x00])
        #expect(recorder.all.count == 1)
        #expect(recorder.all.allSatisfy { $0 > .zero && $0 <= modelled })
    }

    @Test("--timing, then the card's saved setting, then none decide whether the card is timed")
    func servingFollowsOptionThenState() {
        var state = TestCards.defaultState
        #expect(TimedCard.serving(CPS3Card(state: state, faults: nil), override: nil) is CPS3Card)
        #expect(TimedCard.serving(CPS3Card(state: state, faults: nil), override: .real) is TimedCard)
        state.timing = .real
        #expect(TimedCard.serving(CPS3Card(state: state, faults: nil), override: nil) is TimedCard)
        #expect(TimedCard.serving(CPS3Card(state: state, faults: nil), override: CardTimingMode.none) is CPS3Card)
        let cps4 = TimedCard.serving(CPS3Card(state: state.asGeneration(.cps4, atr: nil), faults: nil), override: nil)
        #expect((cps4 as? TimedCard)?.timing.bitsPerSecond == 115_200)
    }

    @Test("the timing setting is saved in state.json and read back; states without it read as nil")
    func persisted() throws {
        let directory = TestCards.temporaryDirectory("cpsd-timing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CardStore(directory: directory)
        var state = TestCards.defaultState
        state.timing = .real
        try store.initialize(state)
        #expect(try store.load().timing == .real)
        #expect(CardTimingMode(rawValue: "real") == .real && CardTimingMode(rawValue: "fast") == nil)
        let legacy = CardStore(directory: directory.appendingPathComponent("legacy"))
        try legacy.initialize(TestCards.defaultState)
        #expect(try legacy.load().timing == nil)
    }
}

@Suite("CardTiming: warm reset")
struct CardTimingResetTests {
    @Test("a warm reset: 40 000 cycles, the ATR at 9600 bit/s, a PPS only when TA1 asks another rate, 10 ms restart")
    func resetTime() {
        let cps3ATR = CardKind.cps3ContactATR
        let cps3 = CardTiming(atr: cps3ATR, generation: .cps3)
        let expected3 = 40_000 / CardTiming.readerClockHz + Double(cps3ATR.count * 12) / (CardTiming.readerClockHz / 372)
        #expect(abs(cps3.resetTime(atrLength: cps3ATR.count).secondsValue - (expected3 + 0.010)) < 1e-6)
        let cps4ATR = CPS4ATRVariant.t0t1.bytes
        let cps4 = CardTiming(atr: cps4ATR, generation: .cps4)
        let expected4 = 40_000 / CardTiming.readerClockHz
            + Double((cps4ATR.count + 8) * 12) / (CardTiming.readerClockHz / 372)
        #expect(abs(cps4.resetTime(atrLength: cps4ATR.count).secondsValue - (expected4 + 0.010)) < 1e-6)
    }
}
