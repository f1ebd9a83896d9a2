import Foundation
import SmartCardCore
import VirtualCard

/// A virtual CPS4 driven with raw bytes, so each test controls the framing (Le present or not) itself.
struct CPS4Rig {
    let card: CPS3Card
    let recorder = StateRecorder()

    init(
        atr: CPS4ATRVariant? = nil, state: CardState = SimulatorFixture.state(), faults: CardFaultInjector? = nil
    ) {
        let recorder = recorder
        card = CPS3Card(
            state: state.asGeneration(.cps4, atr: atr), faults: faults, onStateChange: { recorder.record($0) })
        card.powerOn()
    }

    /// Sends hex as is; returns the data and the status word.
    @discardableResult
    func send(_ hex: String) -> (data: [UInt8], sw: UInt16) {
        split(card.process(bytes(hex)))
    }

    func send(_ command: [UInt8]) -> (data: [UInt8], sw: UInt16) { split(card.process(command)) }

    private func split(_ response: [UInt8]) -> (data: [UInt8], sw: UInt16) {
        let sw =
            response.count >= 2 ? UInt16(response[response.count - 2]) << 8 | UInt16(response[response.count - 1]) : 0
        return (Array(response.dropLast(2)), sw)
    }

    static let selectChipDoc = "01 A4 04 0C 08 80 25 00 00 01 FF 01 00"

    /// Opens channel 1 on the ChipDoc applet.
    func open() { send(Self.selectChipDoc) }

    func verifyPIN(_ pin: [UInt8] = SimulatorFixture.pin) -> UInt16 {
        send([0x01, 0x20, 0x00, 0x81, UInt8(pin.count)] + pin).sw
    }

    func verifyPUK(_ puk: [UInt8] = SimulatorFixture.puk) -> UInt16 {
        send([0x01, 0x20, 0x00, 0x82, UInt8(puk.count)] + puk).sw
    }

    /// SELECT by path from the MF (P1=08, 3F00 stripped, P2=0C), then READ BINARY in 256-byte chunks.
    func readFile(_ path: [UInt8]) -> [UInt8] {
        guard send([0x01, 0xA4, 0x08, 0x0C, UInt8(path.count)] + path).sw == 0x9000 else { return [] }
        var content: [UInt8] = []
        while true {
            let read = send([0x01, 0xB0, UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0x00])
            guard read.sw == 0x9000 else { return content }
            content += read.data
            if read.data.count < 256 { return content }
        }
    }
}
