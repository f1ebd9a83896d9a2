/// The request/answer half of the Assuan client: send one line, read lines until OK or ERR.
struct Session {
    /// How a command ended.
    enum Reply {
        case ok
        case error(code: UInt32, text: String)
    }

    let child: ChildProcess
    let reader: AssuanLineReader
    let program: PinEntryProgram
    let cancellation: PinEntryCancellation?

    /// Sends `line` and reads its reply, both within the program's response timeout.
    func transact(_ line: [UInt8]) throws(PinEntryError) -> Reply {
        try child.send(line, deadline: .now + program.responseTimeout)
        return try read()
    }

    /// Reads the reply to a setting, within the program's response timeout.
    func read() throws(PinEntryError) -> Reply {
        let late = PinEntryError(.programFailed, "pinentry did not answer within \(program.responseTimeout)")
        return try read(until: .now + program.responseTimeout, onDeadline: late, pin: nil)
    }

    /// Reads lines until the command's OK or ERR. `D` lines are decoded into `pin`; without one, a data
    /// line is a protocol error (only GETPIN answers with data here). An INQUIRE is answered with CAN:
    /// we set nothing (quality bar, PIN generation) that should make pinentry ask.
    /// - Parameter deadline: nil waits without limit (until cancelled).
    func read(
        until deadline: ContinuousClock.Instant?, onDeadline: PinEntryError, pin: PINAccumulator?
    ) throws(PinEntryError) -> Reply {
        let isCancelled = { cancellation?.isCancelled == true }
        while true {
            let reply = try reader.withNextLine(deadline: deadline, onDeadline: onDeadline, isCancelled: isCancelled) {
                (line) throws(PinEntryError) -> Reply? in
                switch AssuanLine(line) {
                case .ok: return .ok
                case .error(let code, let text): return .error(code: code, text: text)
                case .informational: return nil
                case .data(let payload):
                    guard let pin else {
                        throw PinEntryError(.protocolError, "pinentry sent a data line where none was expected")
                    }
                    try AssuanEscaping.decode(payload, into: pin)
                    return nil
                case .inquire:
                    try child.send(AssuanEscaping.commandLine("CAN"), deadline: .now + program.responseTimeout)
                    return nil
                case .unexpected:
                    // Never quote the line: a broken pinentry might have printed what the user typed.
                    throw PinEntryError(.protocolError, "pinentry sent a \(line.count)-byte line that is not Assuan")
                }
            }
            if let reply { return reply }
        }
    }

    /// Requires OK; an ERR means the program refused something it must accept.
    func expectOK(_ reply: Reply, what: String) throws(PinEntryError) {
        guard case .error(let code, let text) = reply else { return }
        if GPGErrorCode.isCancel(code) { throw PinEntryError(.cancelled, "pinentry cancelled at \(what)") }
        throw PinEntryError(.programFailed, "pinentry refused \(what): ERR \(code) \(text)")
    }
}
