import Foundation
import Glibc
import PinEntry
import SmartCardCore
import Testing

/// The real Debian pinentry-curses, drawn in a tmux pane (a private tmux server): we start it through the
/// module with GPG_TTY pointing at the pane, read the screen with `capture-pane`, and type with `send-keys`.
@Suite("pinentry-curses, for real")
struct PinEntryCursesTests {
    static func program(_ pane: TmuxPane) -> PinEntryProgram {
        PinEntryProgram(
            path: "/usr/bin/pinentry-curses",
            environment: ["GPG_TTY": pane.tty, "TERM": "screen", "LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"],
            watchdogGrace: .seconds(30))
    }

    static let dialog = PinEntryDialog(
        description: "CPSD TEST DIALOG\nOrigin: \(PinEntryDialog.untrusted("https://psc.example.fr"))\nCard: Dr ROBERT MARTIN",
        title: "CPS card", prompt: "PIN:", error: "2 tries left", timeout: .seconds(60))

    @Test func theTypedPINComesBackAndTheDescriptionIsShown() throws {
        let pane = try TmuxPane()
        defer { pane.stop() }
        let program = Self.program(pane)
        let cancellation = PinEntryCancellation()
        defer { cancellation.cancel() }  // Should the test fail half-way, the dialog still ends.
        let call = BackgroundCall { () throws(PinEntryError) in
            try program.getPIN(Self.dialog, cancellation: cancellation).bytes
        }

        let shown = try pane.waitForScreen(containing: "CPSD TEST DIALOG")
        #expect(shown.contains("Origin: https://psc.example.fr"))
        #expect(shown.contains("Card: Dr ROBERT MARTIN"))
        #expect(shown.contains("2 tries left"))
        #expect(shown.contains("PIN:"))

        try pane.sendKeys(["-l", "5%8"])  // -l: literal characters, not key names.
        let typed = try pane.waitForScreen(containing: "PIN: ***_")  // One star per character…
        #expect(!typed.contains("5%8"))  // …and never the PIN itself.
        try pane.sendKeys(["Enter"])
        let result = try #require(call.wait(timeout: 20), "pinentry-curses did not return")
        #expect(try result.get() == Array("5%8".utf8))
    }

    @Test func theCancelButtonIsACancel() throws {
        let pane = try TmuxPane()
        defer { pane.stop() }
        let program = Self.program(pane)
        let cancellation = PinEntryCancellation()
        defer { cancellation.cancel() }  // Should the test fail half-way, the dialog still ends.
        let call = BackgroundCall { () throws(PinEntryError) in
            try program.getPIN(Self.dialog, cancellation: cancellation).count
        }
        _ = try pane.waitForScreen(containing: "CPSD TEST DIALOG")
        try pane.sendKeys(["Tab", "Tab", "Enter"])  // Entry → <OK> → <Cancel>, pressed. (Escape is Alt here.)
        let result = try #require(call.wait(timeout: 20), "pinentry-curses did not return")
        #expect(throws: PinEntryError(.cancelled, "")) { try result.get() }
    }

    /// pinentry-curses' own SETTIMEOUT answers ERR 83886142 (GPG_ERR_TIMEOUT), well before our watchdog.
    @Test func itsOwnTimeoutIsTyped() throws {
        let pane = try TmuxPane()
        defer { pane.stop() }
        var dialog = Self.dialog
        dialog.timeout = .seconds(1)
        let error = #expect(throws: PinEntryError.self) { _ = try Self.program(pane).getPIN(dialog) }
        #expect(error?.code == .timedOut)
        #expect(error?.reason == "the dialog timed out")  // From pinentry's ERR, not our watchdog.
    }

    /// No terminal to draw on (and, for desktop flavours, no display): pinentry refuses GETPIN, and the
    /// caller gets a program failure carrying pinentry's reason.
    @Test func aTerminalThatDoesNotExistIsAProgramFailure() throws {
        let program = PinEntryProgram(
            path: "/usr/bin/pinentry-curses", environment: ["GPG_TTY": "/dev/nonexistent-tty", "TERM": "screen"])
        let error = #expect(throws: PinEntryError.self) { _ = try program.getPIN(Self.dialog) }
        #expect(error?.code == .programFailed)
        #expect(error?.reason.contains("No such file or directory") == true)
    }

    @Test func cancellingEndsTheDialogAndGivesTheTerminalBack() throws {
        let pane = try TmuxPane()
        defer { pane.stop() }
        let program = Self.program(pane)
        let cancellation = PinEntryCancellation()
        let call = BackgroundCall { () throws(PinEntryError) in
            try program.getPIN(Self.dialog, cancellation: cancellation).count
        }
        _ = try pane.waitForScreen(containing: "CPSD TEST DIALOG")
        cancellation.cancel()
        let result = try #require(call.wait(timeout: 20), "pinentry-curses did not end")
        #expect(throws: PinEntryError(.cancelled, "")) { try result.get() }
        // SIGTERM let curses leave its screen: the dialog is gone from the pane (this throws if not).
        try pane.waitForScreen(notContaining: "CPSD TEST DIALOG")
    }
}

/// A private tmux server with one pane running `sleep`, which never reads its terminal, so whatever is
/// typed into the pane goes to the program that opened the pane's tty: pinentry-curses.
struct TmuxPane {
    let socket: String
    let tty: String

    init() throws {
        socket = "/tmp/cpsd-tmux-\(UUID().uuidString.prefix(8))"
        try Self.tmux(socket, ["-f", "/dev/null", "new-session", "-d", "-s", "pe", "-x", "100", "-y", "30", "exec sleep 600"])
        tty = try Self.tmux(socket, ["display-message", "-p", "-t", "pe", "#{pane_tty}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard tty.hasPrefix("/dev/") else { throw TmuxError("no pane tty: \(tty)") }
    }

    func capture() throws -> String {
        try Self.tmux(socket, ["capture-pane", "-p", "-t", "pe"])
    }

    func waitForScreen(containing text: String, timeout: Duration = .seconds(20)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        var screen = ""
        while ContinuousClock.now < deadline {
            screen = try capture()
            if screen.contains(text) { return screen }
            usleep(100_000)
        }
        throw TmuxError("\"\(text)\" never appeared; the pane shows:\n\(screen)")
    }

    @discardableResult
    func waitForScreen(notContaining text: String, timeout: Duration = .seconds(20)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        var screen = ""
        while ContinuousClock.now < deadline {
            screen = try capture()
            if !screen.contains(text) { return screen }
            usleep(100_000)
        }
        throw TmuxError("\"\(text)\" is still shown:\n\(screen)")
    }

    func sendKeys(_ keys: [String]) throws {
        try Self.tmux(socket, ["send-keys", "-t", "pe"] + keys)
    }

    func stop() {
        _ = try? Self.tmux(socket, ["kill-server"])
        try? FileManager.default.removeItem(atPath: socket)
    }

    /// Runs tmux with posix_spawn rather than Foundation's Process: the server that `new-session` forks
    /// would inherit Process's exit-notification socket (the client would never be seen to exit) and the
    /// test runner's blocked signals (the server would then ignore SIGTERM and its children's exits).
    @discardableResult
    static func tmux(_ socket: String, _ arguments: [String]) throws -> String {
        let outputPath = "\(socket).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = (["/usr/bin/tmux", "-S", socket] + arguments).map { (text: String) in strdup(text) } + [nil]
        let envp = ["PATH=/usr/bin:/bin", "TERM=screen"].map { (text: String) in strdup(text) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw TmuxError("cannot run tmux: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TmuxError("tmux \(arguments.first ?? ""): \(text)") }
        return text
    }
}

struct TmuxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
