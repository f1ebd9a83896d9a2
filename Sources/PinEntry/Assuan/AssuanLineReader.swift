/// Splits what pinentry writes into Assuan lines, in one fixed buffer that is never reallocated (so no
/// stale copy of a `D` line holding the PIN is left behind in freed memory) and that is zeroed as each
/// line is consumed and when the reader dies.
final class AssuanLineReader {
    /// Assuan's limit is 1000 bytes per line plus the line feed; a little slack for sloppy servers.
    static let maximumLineLength = 1002

    private var storage = [UInt8](repeating: 0, count: 4096)
    private var filled = 0
    private let child: ChildProcess

    init(child: ChildProcess) {
        self.child = child
    }

    deinit {
        Self.zero(&storage, 0..<storage.count)
    }

    /// Reads until a whole line (without its line feed) is buffered, lends it to `body`, then erases it.
    /// - Parameters:
    ///   - deadline: when to give up waiting; nil waits until cancelled.
    ///   - onDeadline: the error thrown when the deadline passes.
    func withNextLine<Result>(
        deadline: ContinuousClock.Instant?, onDeadline: PinEntryError, isCancelled: () -> Bool,
        _ body: (ArraySlice<UInt8>) throws(PinEntryError) -> Result
    ) throws(PinEntryError) -> Result {
        while true {
            if let newline = storage[0..<filled].firstIndex(of: 0x0A) {
                defer { consume(newline + 1) }
                guard newline <= Self.maximumLineLength else { throw Self.tooLong }
                return try body(storage[0..<newline])
            }
            guard filled <= Self.maximumLineLength else { throw Self.tooLong }
            switch try child.receive(into: &storage, from: filled, deadline: deadline, isCancelled: isCancelled) {
            case .received(let count): filled += count
            case .endOfFile: throw PinEntryError(.programFailed, "pinentry closed the connection before answering")
            case .deadlinePassed: throw onDeadline
            case .cancelled: throw PinEntryError(.cancelled, "the dialog was cancelled")
            }
        }
    }

    private static var tooLong: PinEntryError {
        PinEntryError(.protocolError, "pinentry sent a line longer than \(maximumLineLength) bytes")
    }

    /// Drops the first `count` bytes, moving the rest to the front and zeroing what is left behind.
    private func consume(_ count: Int) {
        let remaining = filled - count
        for index in 0..<remaining { storage[index] = storage[count + index] }
        Self.zero(&storage, remaining..<filled)
        filled = remaining
    }

    private static func zero(_ bytes: inout [UInt8], _ range: Range<Int>) {
        for index in range { bytes[index] = 0 }
    }
}
