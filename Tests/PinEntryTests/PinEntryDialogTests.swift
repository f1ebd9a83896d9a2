import Foundation
import Glibc
import PinEntry
import SmartCardCore
import Testing

/// Dialogs that get an answer, against the scripted pinentry speaking real Assuan over the real pipes.
@Suite("pinentry dialogs")
struct PinEntryDialogTests {
    static let dialog = PinEntryDialog(
        description: "https://psc.example.fr asks for the PIN of\nDr ROBERT MARTIN's card", title: "CPS card",
        prompt: "PIN:", error: "Wrong PIN, 2 tries left", okLabel: "Sign in", cancelLabel: "Refuse",
        timeout: .seconds(30))

    @Test func pinIsReturnedByteExactAndNeverLogged() throws {
        let pinentry = try ScriptedPinentry(["pin 8642"])
        defer { pinentry.remove() }
        let secret = try pinentry.program().getPIN(Self.dialog)
        #expect(secret.bytes == Array("8642".utf8))

        let entry = try #require(pinentry.log.first)
        #expect(entry["command"] as? String == "GETPIN")
        #expect(entry["desc"] as? String == Self.dialog.description)
        #expect(entry["title"] as? String == "CPS card")
        #expect(entry["prompt"] as? String == "PIN:")
        #expect(entry["error"] as? String == "Wrong PIN, 2 tries left")
        #expect(entry["ok"] as? String == "Sign in")
        #expect(entry["cancel"] as? String == "Refuse")
        #expect(entry["timeout"] as? Int == 30)
        #expect(entry["keyinfo"] as? String == "--clear")  // Nothing for pinentry to cache the PIN under.
        #expect(!pinentry.rawLog.contains("8642"))
        #expect(ProcessCheck.isReaped(try #require(entry["pid"] as? Int)))
    }

    @Test(arguments: [
        ("pin 12%4", Array("12%4".utf8)),
        ("pin %25%0A", Array("%25%0A".utf8)),  // Escapes typed by the user stay literal.
        ("pinhex 31250a0d2532350d0a", [0x31, 0x25, 0x0A, 0x0D, 0x25, 0x32, 0x35, 0x0D, 0x0A]),
        ("pin é€", Array("é€".utf8)),
        ("ok", []),  // OK without a D line: the user confirmed an empty entry.
    ] as [(String, [UInt8])])
    func pinsWithEscapedBytesAreDecoded(answer: String, expected: [UInt8]) throws {
        let pinentry = try ScriptedPinentry([answer])
        defer { pinentry.remove() }
        let secret = try pinentry.program().getPIN(PinEntryDialog(description: "PIN?"))
        #expect(secret.bytes == expected)
        #expect(secret.count == expected.count)
    }

    @Test func answersWrittenOneByteAtATimeAreReassembled() throws {
        let pinentry = try ScriptedPinentry(["chatty pinhex 3125300a39", "no"])
        defer { pinentry.remove() }
        let program = pinentry.program(["CPSD_TEST_PINENTRY_DRIP": "1"])
        #expect(try program.getPIN(PinEntryDialog(description: "x")).bytes == [0x31, 0x25, 0x30, 0x0A, 0x39])
        #expect(try program.confirm(PinEntryDialog(description: "x")) == false)
    }

    @Test func aPINSpreadOverSeveralDataLinesIsJoined() throws {
        // Assuan data may be split over several D lines; the scripted program cuts them at 100 bytes, so
        // 200 '%' (600 bytes escaped) arrive on six lines.
        let pinentry = try ScriptedPinentry(["pinhex " + String(repeating: "25", count: 200)])
        defer { pinentry.remove() }
        let secret = try pinentry.program().getPIN(PinEntryDialog(description: "PIN?"))
        #expect(secret.bytes == [UInt8](repeating: 0x25, count: 200))
    }

    @Test func descriptionsWithNewlinesAndPercentSignsArriveIntact() throws {
        let description = "Line one\nLine two: 100% sure\r\nTab\there, and %0A stays literal"
        let pinentry = try ScriptedPinentry(["pin 1", "ok"])
        defer { pinentry.remove() }
        _ = try pinentry.program().getPIN(PinEntryDialog(description: description, title: "50% off\n"))
        try pinentry.program().message(PinEntryDialog(description: description))
        #expect(pinentry.log.count == 2)
        for entry in pinentry.log { #expect(entry["desc"] as? String == description) }
        #expect(pinentry.log.first?["title"] as? String == "50% off\n")
    }

    @Test func untrustedPartsCannotAddLinesOrReorderText() throws {
        let origin = PinEntryDialog.untrusted("https://evil.example\n\u{202E}rf.stnemyap\u{202C}\u{0}\u{7F}\u{85}")
        #expect(!origin.contains("\n"))
        #expect(!origin.unicodeScalars.contains { $0.value == 0x202E || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(origin.hasPrefix("https://evil.example\u{FFFD}\u{FFFD}rf.stnemyap"))
        #expect(PinEntryDialog.untrusted("Dr Élise Müller-Ngô") == "Dr Élise Müller-Ngô")
        let long = PinEntryDialog.untrusted(String(repeating: "a", count: 500), maximumLength: 50)
        #expect(long == String(repeating: "a", count: 50) + "…")

        let pinentry = try ScriptedPinentry(["ok"])
        defer { pinentry.remove() }
        try pinentry.program().message(PinEntryDialog(description: "Origin: \(origin)"))
        #expect(pinentry.log.first?["desc"] as? String == "Origin: \(origin)")
    }

    @Test func aTooLongDescriptionIsCutToOneAssuanLine() throws {
        let pinentry = try ScriptedPinentry(["ok"])
        defer { pinentry.remove() }
        let description = String(repeating: "€%", count: 400)  // 400 × (3 + 3) bytes once escaped.
        try pinentry.program().message(PinEntryDialog(description: description))
        let shown = try #require(pinentry.log.first?["desc"] as? String)
        #expect(shown.hasSuffix("…"))
        #expect(description.hasPrefix(String(shown.dropLast())))
        #expect(("SETDESC " + shown.replacingOccurrences(of: "%", with: "%25")).utf8.count <= 1000)
    }

    @Test func confirmAnswersYesAndNoAndMessageShows() throws {
        let pinentry = try ScriptedPinentry(["ok", "no", "ok", "no"])
        defer { pinentry.remove() }
        let program = pinentry.program()
        let question = PinEntryDialog(description: "Pair https://psc.example.fr?", okLabel: "Pair", cancelLabel: "No")
        #expect(try program.confirm(question) == true)
        #expect(try program.confirm(question) == false)
        try program.message(PinEntryDialog(description: "Pairing code: 123 456"))
        try program.message(PinEntryDialog(description: "Pairing code: 654 321"))  // MESSAGE has one button.
        #expect(pinentry.log.map { $0["command"] as? String } == ["CONFIRM", "CONFIRM", "MESSAGE", "MESSAGE"])
        #expect(pinentry.log[2]["desc"] as? String == "Pairing code: 123 456")
        #expect(pinentry.log.compactMap { $0["pid"] as? Int }.allSatisfy(ProcessCheck.isReaped))
    }

    @Test func terminalAndLocaleOptionsAreSentOnlyWhenKnown() throws {
        let pinentry = try ScriptedPinentry(["ok", "ok"])
        defer { pinentry.remove() }
        let withTTY = ["GPG_TTY": "/dev/pts/77", "TERM": "xterm-256color", "LANG": "fr_FR.UTF-8"]
        try pinentry.program(withTTY).message(PinEntryDialog(description: "x"))
        try pinentry.program(["LC_ALL": "C.UTF-8", "TERM": "xterm"]).message(PinEntryDialog(description: "x"))
        let options = pinentry.log.map { $0["options"] as? [String: String] ?? [:] }
        #expect(
            options.first == [
                "ttyname": "/dev/pts/77", "ttytype": "xterm-256color", "lc-ctype": "fr_FR.UTF-8",
                "lc-messages": "fr_FR.UTF-8",
            ])
        #expect(options.last == ["lc-ctype": "C.UTF-8", "lc-messages": "C.UTF-8"])
        // Never the option that would let pinentry cache the PIN in a keyring.
        #expect(!pinentry.rawLog.contains("allow-external-password-cache"))
    }

    @Test func inquiriesAreRefusedAndStatusLinesIgnored() throws {
        let pinentry = try ScriptedPinentry(["inquire pin 2468", "chatty pin 1357", "chatty no"])
        defer { pinentry.remove() }
        let program = pinentry.program()
        #expect(try program.getPIN(PinEntryDialog(description: "x")).bytes == Array("2468".utf8))
        #expect(pinentry.log.first?["inquireReply"] as? String == "CAN")
        #expect(try program.getPIN(PinEntryDialog(description: "x")).bytes == Array("1357".utf8))
        #expect(try program.confirm(PinEntryDialog(description: "x")) == false)
    }

    /// The program gets stdin, stdout and stderr only (not a descriptor the daemon opened without
    /// close-on-exec) and no blocked signals (the test runner blocks most), so SIGTERM reaches it.
    @Test func theProgramStartsClean() throws {
        let pinentry = try ScriptedPinentry(["ok"])
        defer { pinentry.remove() }
        let stray = open("/dev/null", O_RDONLY)  // No O_CLOEXEC, on purpose.
        defer { close(stray) }
        #expect(stray > 2)
        try pinentry.program().message(PinEntryDialog(description: "x"))
        let entry = try #require(pinentry.log.first)
        #expect(entry["fds"] as? [Int] == [0, 1, 2])
        #expect(entry["blockedSignals"] as? String == "0000000000000000")
    }

    @Test func theProgramIsFoundOnPATH() throws {
        let pinentry = try ScriptedPinentry(["pin 42"])
        defer { pinentry.remove() }
        let bin = pinentry.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: bin.appendingPathComponent("pinentry").path, withDestinationPath: ScriptedPinentry.executable)
        let program = PinEntryProgram(environment: pinentry.environment(["PATH": "/nonexistent:\(bin.path):/usr/bin"]))
        #expect(try program.resolvedPath() == bin.appendingPathComponent("pinentry").path)
        #expect(try program.getPIN(PinEntryDialog(description: "x")).bytes == Array("42".utf8))
    }
}
