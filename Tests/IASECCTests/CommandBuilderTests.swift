import IASECC
import SmartCardCore
import Testing

/// Each builder against the byte layout given in cps3-card.md §5-§7.
@Suite("IAS-ECC command builders")
struct CommandBuilderTests {
    private func hex(_ command: CommandAPDU) -> String { Hex.string(from: command.bytes, separator: "") }

    @Test("selection and reading")
    func selection() {
        #expect(hex(.selectApplication(CPS3.iasApplicationAID)) == "00A4040C0DE828BD080F8025000001FF0010")
        #expect(hex(.selectPath([0x3F, 0x00])) == "00A4090C023F00")
        #expect(hex(.readBinary(offset: 0x01CE, length: 0xE7)) == "00B001CEE7")
        #expect(hex(.readBinary(sfi: 0x1C)) == "00B09C0000")
    }

    @Test("PIN information and status cost no try")
    func pinInfo() {
        #expect(hex(.getPINInfo(reference: 0x01)) == "00CB3FFF0A4D087006BF810102A08000")
        #expect(hex(.verifyStatus(reference: 0x01)) == "00200001")
    }

    @Test("security environment and signatures")
    func signing() {
        #expect(hex(.mseSetHashTemplate(.sha256)) == "002241AA03800140")
        #expect(hex(.mseSetSignatureTemplate(.sha256WithRSA, key: 0x81)) == "002241B606800142840181")
        #expect(hex(.mseSetAuthenticationTemplate(key: 0x82)) == "002241A406800102840182")
        #expect(hex(.psoComputeDigitalSignature()) == "002A9E9A00")
        #expect(hex(.getChallenge()) == "0084000008")
    }

    @Test("PSO HASH carries the state, the 8-byte bit count and the tail (§6.1 worked example)")
    func psoHash() {
        let state = [UInt8](repeating: 0xAB, count: 32)
        let tail = [UInt8](repeating: 0xCD, count: 36)
        let bytes = CommandAPDU.psoHash(intermediateState: state, bitCount: 512, tail: tail).bytes
        #expect(Array(bytes.prefix(5)) == [0x00, 0x2A, 0x90, 0xA0, 0x50])
        #expect(Array(bytes[5...6]) == [0x90, 0x28])
        #expect(Array(bytes[39...46]) == [0, 0, 0, 0, 0, 0, 0x02, 0x00])
        #expect(Array(bytes[47...48]) == [0x80, 0x24])
        #expect(bytes.count == 5 + 0x50)
        let short = CommandAPDU.psoHash(intermediateState: nil, bitCount: 0, tail: [1, 2, 3]).bytes
        #expect(short == [0x00, 0x2A, 0x90, 0xA0, 0x07, 0x90, 0x00, 0x80, 0x03, 1, 2, 3])
    }
}
