import Foundation
import PinEntry
import SmartCardCore
import Testing

/// Dialogs that end without an answer: each ends with a typed error, promptly, and leaves no process.
@Suite("pinentry failures")
struct PinEntryFailureTests {
    static let dialog = PinEntryDialog(description: "PIN for the card of Dr MARTIN", prompt: "PIN:")

    /// The error `body` threw, or nil if it returned. (Closures infer untyped throws, hence the cast.)
    static func error(_ body: () throws -> Void) -> PinEntryError? {
        do {
            try body()
            return nil
        } catch {
            return error as? PinEntryError
        }
    }

    @Test func cancelIsTyped() throws {
        let pinentry = try ScriptedPinentry(["cancel", "cancel", "cancel"])
        defer { pinentry.remove() }
        let program = pinentry.program()
        #expect(Self.error { _ = try program.getPIN(Self.dialog) }?.code == .cancelled)
        #expect(Self.error { _ = try program.confirm(Self.dialog) }?.code == .cancelled)
        #expect(Self.error { try program.message(Self.dialog) }?.code == .cancelled)
        #expect(pinentry.log.count == 3)
        #expect(pinentry.log.compactMap { $0["pid"] as? Int }.allSatisfy(ProcessCheck.isReaped))
    }

    @Test func anExhaustedScriptCancels() throws {
        let pinentry = try ScriptedPinentry(["pin 1111"])
        defer { pinentry.remove() }
        #expect(try pinentry.program().getPIN(Self.dialog).bytes == Array("1111".utf8))
        #expect(Self.error { _ = try pinentry.program().getPIN(Self.dialog) }?.code == .cancelled)
    }

    @Test func theDialogsOwnTimeoutIsTyped() throws {
        let pinentry = try ScriptedPinentry(["timeout"])
        defer { pinentry.remove() }
        var dialog = Self.dialog
        dialog.timeout = .milliseconds(1500)  // Rounded up: SETTIMEOUT 2.
        let error = Self.error { _ = try pinentry.program().getPIN(dialog) }
        #expect(error?.code == .timedOut)
        let entry = try #require(pinentry.log.first)
        #expect(entry["timeout"] as? Int == 2)
        #expect(ProcessCheck.isReaped(try #require(entry["pid"] as? Int)))
    }

    /// `hang` exits when its input closes; `hang-hard` ignores that and SIGTERM, so only SIGKILL ends it.
    @Test(arguments: ["hang", "hang-hard"])
    func theWatchdogEndsAProgramThatNeverAnswers(answer: String) throws {
        let pinentry = try ScriptedPinentry([answer])
        defer { pinentry.remove() }
        var dialog = Self.dialog
        dialog.timeout = .seconds(1)
        let program = pinentry.program(watchdogGrace: .milliseconds(500))
        #expect(Self.error { _ = try program.getPIN(dialog) }?.code == .timedOut)
        #expect(ProcessCheck.isReaped(try #require(pinentry.log.first?["pid"] as? Int)))
    }

    @Test(arguments: ["hang", "hang-hard"])
    func cancellingFromAnotherThreadEndsAHangingDialog(answer: String) throws {
        let pinentry = try ScriptedPinentry([answer])
        defer { pinentry.remove() }
        let program = pinentry.program()
        let cancellation = PinEntryCancellation()
        let call = BackgroundCall { () throws(PinEntryError) in
            try program.getPIN(PinEntryDialog(description: "no timeout"), cancellation: cancellation).count
        }
        #expect(pinentry.waitForDialogs(1))
        #expect(call.wait(timeout: 0.3) == nil)  // Still waiting for the user.
        cancellation.cancel()
        let result = try #require(call.wait(timeout: 10), "the dialog did not end after cancel()")
        #expect(throws: PinEntryError(.cancelled, "")) { try result.get() }
        #expect(ProcessCheck.isReaped(try #require(pinentry.log.first?["pid"] as? Int)))
        // Sticky: a later dialog with the same cancellation does not even start.
        #expect(Self.error { _ = try program.getPIN(Self.dialog, cancellation: cancellation) }?.code == .cancelled)
        #expect(pinentry.log.count == 1)
    }

    @Test func endOfFileMidDialogIsAProgramFailure() throws {
        let pinentry = try ScriptedPinentry(["close"])
        defer { pinentry.remove() }
        let error = try #require(Self.error { _ = try pinentry.program().getPIN(Self.dialog) })
        #expect(error.code == .programFailed)
        #expect(error.reason.contains("exit status 0"))
        #expect(ProcessCheck.isReaped(try #require(pinentry.log.first?["pid"] as? Int)))
    }

    @Test func aMissingProgramIsTyped() throws {
        let pinentry = try ScriptedPinentry([])
        defer { pinentry.remove() }
        let byPath = PinEntryProgram(path: "/nonexistent/pinentry-gnome3")
        #expect(Self.error { _ = try byPath.getPIN(Self.dialog) }?.code == .programNotFound)
        let onPath = PinEntryProgram(environment: ["PATH": "/nonexistent:\(pinentry.directory.path)"])
        #expect(Self.error { _ = try onPath.getPIN(Self.dialog) }?.code == .programNotFound)
        let aDirectory = PinEntryProgram(path: pinentry.directory.path)
        #expect(Self.error { try aDirectory.message(Self.dialog) }?.code == .programNotFound)
    }

    @Test(arguments: ["garbage", "longline"])
    func outputThatIsNotAssuanIsAProtocolError(answer: String) throws {
        let pinentry = try ScriptedPinentry([answer])
        defer { pinentry.remove() }
        #expect(Self.error { _ = try pinentry.program().getPIN(Self.dialog) }?.code == .protocolError)
        #expect(ProcessCheck.isReaped(try #require(pinentry.log.first?["pid"] as? Int)))
    }

    @Test func aPINLongerThanTheLimitIsRefused() throws {
        let pinentry = try ScriptedPinentry(["pinhex " + String(repeating: "39", count: PinEntryProgram.maximumPINLength + 1)])
        defer { pinentry.remove() }
        #expect(Self.error { _ = try pinentry.program().getPIN(Self.dialog) }?.code == .protocolError)
    }

    /// Programs that are not pinentries at all, as shell scripts writing their pid first.
    @Test(arguments: [
        ("exec sleep 30", PinEntryError.Code.programFailed),  // Never greets.
        ("echo 'Hello, I am not a pinentry'; exec cat >/dev/null", .protocolError),
        ("echo 'ERR 83886085 No pinentry'; exec cat >/dev/null", .programFailed),
        ("exit 2", .programFailed),
        ("echo OK; exec sleep 30", .programFailed),  // Greets, then never acknowledges a setting.
    ] as [(String, PinEntryError.Code)])
    func programsThatAreNotPinentriesFailTyped(body: String, expected: PinEntryError.Code) throws {
        let pinentry = try ScriptedPinentry([])
        defer { pinentry.remove() }
        let script = pinentry.directory.appendingPathComponent("fake-pinentry").path
        let pidFile = pinentry.directory.appendingPathComponent("pid").path
        try "#!/bin/sh\necho $$ > '\(pidFile)'\n\(body)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let program = PinEntryProgram(path: script, environment: ["PATH": "/usr/bin:/bin"], responseTimeout: .seconds(1))
        #expect(Self.error { _ = try program.getPIN(Self.dialog) }?.code == expected)
        let pid = try #require(Int(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(ProcessCheck.isReaped(pid))
    }
}
