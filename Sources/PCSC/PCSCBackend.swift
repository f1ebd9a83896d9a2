package import SmartCardCore

/// Readers and cards through pcsc-lite (pcscd). Each call that blocks uses its own PC/SC context.
package struct PCSCBackend: CardBackend {
    package init() {}

    /// The readers now. No readers is an empty list; pcscd not running is `.serviceUnavailable`.
    package func listReaders() throws(CardError) -> [ReaderStatus] {
        do {
            let context = try ContextHandle()
            let names = try context.listReaders()
            guard !names.isEmpty else { return [] }
            var states = names.map { ReaderStateRecord(name: $0) }
            try context.getStatusChange(&states, timeoutMilliseconds: 0)
            return states.map(\.readerStatus)
        } catch {
            throw error.cardError
        }
    }

    package func connect(to reader: String) throws(CardError) -> any CardConnection {
        try PCSCConnection(readerName: reader)
    }

    package func events() -> AsyncStream<ReaderEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ReaderEvent.self, bufferingPolicy: .unbounded)
        let monitor = ReaderMonitor { continuation.yield($0) } finished: { continuation.finish() }
        continuation.onTermination = { _ in monitor.cancel() }
        monitor.start()
        return stream
    }
}

extension ReaderStateRecord {
    var readerStatus: ReaderStatus {
        ReaderStatus(name: name, cardPresent: isPresent, atr: isPresent ? atr : [], exclusive: isExclusive, mute: isMute)
    }
}
