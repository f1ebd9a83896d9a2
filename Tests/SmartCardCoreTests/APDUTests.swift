import SmartCardCore
import Testing

@Suite("Command and response APDUs")
struct APDUTests {
    @Test("the four ISO cases encode and parse back", arguments: [
        CommandAPDU(ins: 0xA4, p1: 0x00, p2: 0x0C),
        CommandAPDU(ins: 0x84, p1: 0, p2: 0, expectedLength: 8),
        CommandAPDU(ins: 0xA4, p1: 0x00, p2: 0x0C, data: [0x3F, 0x00]),
        CommandAPDU(ins: 0x88, p1: 0, p2: 0, data: Array(repeating: 0x55, count: 51), expectedLength: 256),
        CommandAPDU(ins: 0x2A, p1: 0x9E, p2: 0x9A, data: Array(repeating: 1, count: 300), expectedLength: 512),
        CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 65536),
    ])
    func roundTrip(command: CommandAPDU) throws {
        #expect(try CommandAPDU(bytes: command.bytes) == command)
    }

    @Test("short encodings are byte-exact")
    func shortEncoding() {
        #expect(CommandAPDU(ins: 0x84, p1: 0, p2: 0, expectedLength: 8).bytes == [0x00, 0x84, 0x00, 0x00, 0x08])
        #expect(CommandAPDU(ins: 0x2A, p1: 0x9E, p2: 0x9A, expectedLength: 256).bytes == [0x00, 0x2A, 0x9E, 0x9A, 0x00])
        #expect(
            CommandAPDU(ins: 0xA4, p1: 0x09, p2: 0x04, data: [0x3F, 0x00], expectedLength: 256).bytes
                == [0x00, 0xA4, 0x09, 0x04, 0x02, 0x3F, 0x00, 0x00])
    }

    @Test("extended encoding uses a zero byte then two-byte lengths")
    func extendedEncoding() {
        let bytes = CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 1000).bytes
        #expect(bytes == [0x00, 0xB0, 0x00, 0x00, 0x00, 0x03, 0xE8])
    }

    @Test("malformed commands are typed errors", arguments: [
        [0x00, 0xA4, 0x00] as [UInt8],
        [0x00, 0xA4, 0x00, 0x0C, 0x05, 0x3F],
        [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00, 0x00, 0x00],
        [0x00, 0xB0, 0x00, 0x00, 0x00, 0x01],
        [0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
    ])
    func malformed(bytes: [UInt8]) {
        #expect(throws: APDUFormatError.self) { try CommandAPDU(bytes: bytes) }
    }

    @Test("a response splits into data and status word; under two bytes is an error")
    func response() throws {
        let response = try ResponseAPDU(bytes: [0x01, 0x02, 0x90, 0x00])
        #expect(response.data == [0x01, 0x02])
        #expect(response.statusWord == .success)
        #expect(throws: APDUFormatError.self) { try ResponseAPDU(bytes: []) }
        #expect(throws: APDUFormatError.self) { try ResponseAPDU(bytes: [0x90]) }
    }

    @Test("status word helpers read 61xx, 6Cxx and 63Cx")
    func statusWords() {
        #expect(StatusWord(sw1: 0x61, sw2: 0x10).bytesAvailableCount == 16)
        #expect(StatusWord(sw1: 0x61, sw2: 0x00).bytesAvailableCount == 256)
        #expect(StatusWord(sw1: 0x6C, sw2: 0xE7).exactLength == 0xE7)
        #expect(StatusWord(sw1: 0x63, sw2: 0xC2).triesLeft == 2)
        #expect(StatusWord.verificationFailed(triesLeft: 1) == StatusWord(rawValue: 0x63C1))
        #expect(StatusWord.success.triesLeft == nil)
        #expect(StatusWord(rawValue: 0x6A82).description == "6A82")
    }

    @Test("hex parses separators and rejects garbage")
    func hex() {
        #expect(Hex.bytes("3B:AC 00") == [0x3B, 0xAC, 0x00])
        #expect(Hex.bytes("3bac") == [0x3B, 0xAC])
        #expect(Hex.bytes("3BA") == nil)
        #expect(Hex.bytes("3G") == nil)
        #expect(Hex.string(from: [0x3B, 0x0A]) == "3B 0A")
    }
}
