/// Where readers and cards come from: pcsc-lite in production, the in-process virtual backend in tests.
package protocol CardBackend: Sendable {
    /// The readers now, with what is in them.
    func listReaders() throws(CardError) -> [ReaderStatus]
    /// Connects to the card in `reader` in shared mode.
    func connect(to reader: String) throws(CardError) -> any CardConnection
    /// Reader and card changes as they happen, starting with the current readers reported as added.
    /// No polling: the stream waits on the backend's own notification. Cancelling the consuming task
    /// (or dropping the stream) stops the monitor.
    func events() -> AsyncStream<ReaderEvent>
}

/// A card that lives in software and answers APDUs: the seam between a simulator and whatever plugs it
/// into a reader (the vpcd link, the in-process backend). Conformers serialize calls themselves.
package protocol CardSimulator: AnyObject, Sendable {
    /// The ATR given at power-on and reset.
    var atr: [UInt8] { get }
    /// Cold start: the card forgets its volatile state (selected files, verified PIN, security environment).
    func powerOn()
    func powerOff()
    /// Warm reset: same effect on volatile state as power-on.
    func reset()
    /// Answers one command APDU with data‖SW1SW2. Never throws: malformed input is a status word.
    func process(_ command: [UInt8]) -> [UInt8]
}
