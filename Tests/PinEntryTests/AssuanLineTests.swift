@testable import PinEntry
import SmartCardCore
import Testing

/// The Assuan line classifier and the `D` line decoder, byte by byte.
@Suite("Assuan lines")
struct AssuanLineTests {
    static func kind(_ text: String) -> String {
        switch AssuanLine(ArraySlice(text.utf8)) {
        case .ok: "ok"
        case .error(let code, let text): "err \(code) \(text)"
        case .data(let payload): "data \(String(decoding: payload, as: UTF8.self))"
        case .informational: "info"
        case .inquire: "inquire"
        case .unexpected: "unexpected"
        }
    }

    @Test func linesAreClassifiedByTheirFirstWord() {
        #expect(Self.kind("OK") == "ok")
        #expect(Self.kind("OK Pleased to meet you") == "ok")
        #expect(Self.kind("OKAY") == "unexpected")
        #expect(Self.kind("ok") == "unexpected")  // Assuan keywords are upper case.
        #expect(Self.kind("ERR 83886179 Operation cancelled <Pinentry>") == "err 83886179 Operation cancelled <Pinentry>")
        #expect(Self.kind("ERR 62") == "err 62 ")
        #expect(Self.kind("ERR") == "unexpected")
        #expect(Self.kind("ERR cancelled") == "unexpected")
        #expect(Self.kind("ERR 99999999999 too big") == "unexpected")
        #expect(Self.kind("D 12%254") == "data 12%254")
        #expect(Self.kind("D") == "data ")
        #expect(Self.kind("DATA 1") == "unexpected")
        #expect(Self.kind("S ERROR curses.isatty 83918950 ") == "info")
        #expect(Self.kind("# a comment") == "info")
        #expect(Self.kind("") == "info")
        #expect(Self.kind("INQUIRE QUALITY 12") == "inquire")
        #expect(Self.kind("1234") == "unexpected")
    }

    @Test func errorTextFromThePinentryIsSanitized() {
        #expect(Self.kind("ERR 5 bad\u{1B}[2Jthing") == "err 5 bad\u{FFFD}[2Jthing")
    }

    static func decode(_ text: String, capacity: Int = 16) throws(PinEntryError) -> [UInt8] {
        let target = PINAccumulator(capacity: capacity)
        try AssuanEscaping.decode(ArraySlice(text.utf8), into: target)
        return target.takeSecret().withBytes { Array($0) }
    }

    @Test func dataIsPercentDecoded() throws {
        #expect(try Self.decode("12%254") == Array("12%4".utf8))
        #expect(try Self.decode("%0A%0d%25") == [0x0A, 0x0D, 0x25])
        #expect(try Self.decode("") == [])
        #expect(try Self.decode("+ x") == Array("+ x".utf8))  // No form-encoding: '+' stays.
    }

    @Test(arguments: ["%", "%2", "12%G0", "%%"])
    func malformedEscapesAreProtocolErrors(payload: String) {
        #expect(throws: PinEntryError(.protocolError, "")) { try Self.decode(payload) }
    }

    @Test func thePINLengthIsBounded() throws {
        #expect(try Self.decode("1234", capacity: 4) == Array("1234".utf8))
        #expect(throws: PinEntryError(.protocolError, "")) { try Self.decode("12345", capacity: 4) }
        #expect(throws: PinEntryError(.protocolError, "")) { try Self.decode("123%25", capacity: 3) }
    }

    @Test func commandLinesEscapeControlsAndPercentAndFitOneLine() {
        #expect(AssuanEscaping.commandLine("SETDESC", "a\nb%c\r\u{7F}é") == Array("SETDESC a%0Ab%25c%0D%7Fé\n".utf8))
        let long = AssuanEscaping.commandLine("SETDESC", String(repeating: "%", count: 1000))
        #expect(long.count <= AssuanEscaping.maximumLineLength + 1)
        #expect(long.suffix(4) == ArraySlice("…\n".utf8))
        #expect(!long.dropLast().contains(0x0A))
    }
}
