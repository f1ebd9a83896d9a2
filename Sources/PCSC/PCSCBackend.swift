import Dispatch
import Foundation
package import SmartCardCore
import Glibc

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

    /// The reader's PC/SC part 10 features (CM_IOCTL_GET_FEATURE_REQUEST), asked over a direct
    /// connection to the reader: nothing is sent to the card, and it is neither powered nor reset. A
    /// driver that does not support the request (SCARD_E_UNSUPPORTED_FEATURE) has no feature. Another
    /// client's transaction makes pcscd refuse the request for a moment, so a refusal is retried briefly;
    /// a card held exclusively by another process keeps refusing (`.sharingViolation`).
    package func readerFeatures(of reader: String) throws(CardError) -> ReaderFeatures {
        var attempt = 0
        while true {
            let tlv: [UInt8]
            do throws(PCSCError) {
                let handle = try CardHandle(context: try ContextHandle(), reader: reader, direct: true)
                defer { handle.disconnect(.leave) }
                tlv = try handle.control(PCSCConstant.getFeatureRequest)
            } catch where error.code == .unsupportedFeature {
                return ReaderFeatures()
            } catch where error.code == .sharingViolation && attempt < 5 {
                attempt += 1
                usleep(20_000)
                continue
            } catch {
                throw error.cardError
            }
            do {
                return try ReaderFeatures(tlv: tlv)
            } catch {
                throw CardError(.internalError, "\(error)")
            }
        }
    }

    package func connect(to reader: String) throws(CardError) -> any CardConnection {
        try PCSCConnection(readerName: reader)
    }

    /// Waits (on a thread of its own, never the concurrency pool) until every reader monitor's thread
    /// has left libpcsclite, or `timeout` passes: call it after the event streams were cancelled and
    /// before the process exits.
    package static func waitForMonitorsToFinish(timeout: Duration = .seconds(5)) async {
        let milliseconds = Int(timeout.components.seconds * 1000)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                _ = ReaderMonitor.running.wait(timeout: .now() + .milliseconds(milliseconds))
                continuation.resume()
            }.start()
        }
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
