/// One run of a pinentry program for one dialog: spawn, greeting, options, SET* texts, the dialog command,
/// its answer, BYE, reap. Runs on the caller's thread and blocks it; every wait has a deadline or ends on
/// cancellation, and the child is always reaped before `run` returns or throws.
struct PinEntryConversation {
    enum Request: String {
        case getPIN = "GETPIN"
        case confirm = "CONFIRM"
        case message = "MESSAGE"
    }

    enum Answer {
        case ok
        /// CONFIRM's "no" button.
        case notConfirmed
    }

    let program: PinEntryProgram
    let dialog: PinEntryDialog
    let cancellation: PinEntryCancellation?

    /// Runs `request`; for GETPIN the PIN's bytes land in `pin`.
    func run(_ request: Request, pin: PINAccumulator?) throws(PinEntryError) -> Answer {
        if cancellation?.isCancelled == true { throw PinEntryError(.cancelled, "cancelled before the dialog opened") }
        let path = try program.resolvedPath()
        let child = try ChildProcess.spawn(path: path, environment: program.environment)
        guard cancellation?.register(child.pid) ?? true else {
            child.finish(graceful: false)
            throw PinEntryError(.cancelled, "cancelled before the dialog opened")
        }
        let reader = AssuanLineReader(child: child)
        do throws(PinEntryError) {
            // An answer or a refusal (cancel, the dialog's timeout) is an orderly end: say goodbye and let
            // the program exit by itself. Anything thrown means the conversation broke: stop the program.
            let outcome = try converse(request, child: child, reader: reader, pin: pin)
            try? child.send(AssuanEscaping.commandLine("BYE"), deadline: .now + .seconds(1))
            cancellation?.unregister(child.pid)
            child.finish(graceful: true)
            return try outcome.get()
        } catch {
            cancellation?.unregister(child.pid)
            let status = child.finish(graceful: false)
            // A cancelled dialog may show up here as "connection closed": the signal got there first.
            if cancellation?.isCancelled == true { throw PinEntryError(.cancelled, "the dialog was cancelled") }
            guard error.code == .programFailed, let status else { throw error }
            throw error.adding("pinentry ended with \(ChildProcess.describe(status: status))")
        }
    }

    private func converse(
        _ request: Request, child: ChildProcess, reader: AssuanLineReader, pin: PINAccumulator?
    ) throws(PinEntryError) -> Result<Answer, PinEntryError> {
        let session = Session(child: child, reader: reader, program: program, cancellation: cancellation)
        try session.expectOK(session.read(), what: "greeting")
        for option in options() {
            _ = try session.transact(AssuanEscaping.commandLine("OPTION \(option)"))  // Older pinentries may refuse.
        }
        _ = try session.transact(AssuanEscaping.commandLine("SETKEYINFO", dialog.keyInfo ?? "--clear"))
        for (verb, value) in dialog.setCommands {
            try session.expectOK(session.transact(AssuanEscaping.commandLine(verb, value)), what: verb)
        }
        if let seconds = dialog.timeoutSeconds {
            try session.expectOK(session.transact(AssuanEscaping.commandLine("SETTIMEOUT \(seconds)")), what: "SETTIMEOUT")
        }

        try child.send(AssuanEscaping.commandLine(request.rawValue), deadline: .now + program.responseTimeout)
        let watchdog = dialog.timeout.map { ContinuousClock.now + $0 + program.watchdogGrace }
        let timedOut = PinEntryError(.timedOut, "pinentry did not answer \(request.rawValue) in time; it was stopped")
        switch try session.read(until: watchdog, onDeadline: timedOut, pin: request == .getPIN ? pin : nil) {
        case .ok:
            return .success(.ok)
        case .error(let code, _) where request == .confirm && GPGErrorCode.code(code) == GPGErrorCode.notConfirmed:
            return .success(.notConfirmed)
        case .error(let code, let text):
            return .failure(Self.error(code: code, text: text, request: request))
        }
    }

    private static func error(code: UInt32, text: String, request: Request) -> PinEntryError {
        if GPGErrorCode.isCancel(code) { return PinEntryError(.cancelled, "the user cancelled the dialog") }
        if GPGErrorCode.code(code) == GPGErrorCode.timeout { return PinEntryError(.timedOut, "the dialog timed out") }
        return PinEntryError(.programFailed, "pinentry refused \(request.rawValue): ERR \(code) \(text)")
    }

    /// The OPTIONs that let the dialog reach the user: the terminal for curses pinentries (only when the
    /// environment names one with GPG_TTY, as gpg-agent does), and the locale for the texts' encoding.
    func options() -> [String] {
        let environment = program.environment
        var options: [String] = []
        if let tty = Self.plain(environment["GPG_TTY"]) {
            options.append("ttyname=\(tty)")
            if let term = Self.plain(environment["TERM"]) { options.append("ttytype=\(term)") }
        }
        let locale = Self.plain(environment["LC_ALL"])
        if let ctype = locale ?? Self.plain(environment["LC_CTYPE"]) ?? Self.plain(environment["LANG"]) {
            options.append("lc-ctype=\(ctype)")
        }
        if let messages = locale ?? Self.plain(environment["LC_MESSAGES"]) ?? Self.plain(environment["LANG"]) {
            options.append("lc-messages=\(messages)")
        }
        return options
    }

    /// An environment value usable verbatim on an OPTION line: non-empty, printable ASCII, not too long.
    private static func plain(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 256,
            value.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else { return nil }
        return value
    }
}
