import Dispatch
import Foundation
import Glibc

/// A command for a running `cps-vcard`, from a line on standard input or a signal.
enum ControlEvent: Equatable {
    case insert(Int?)
    case remove(Int?)
    case restartPCSCD
    case quit
    case invalid(String)

    /// Parses `remove [N]`, `insert [N]`, `restart-pcscd`, `quit`; nil for an empty line.
    init?(line: String) {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let verb = words.first else { return nil }
        let index = words.count > 1 ? Int(words[1]) : nil
        if words.count > 2 || (words.count == 2 && index == nil) {
            self = .invalid(line)
            return
        }
        switch verb {
        case "insert": self = .insert(index)
        case "remove": self = .remove(index)
        case "restart-pcscd" where words.count == 1: self = .restartPCSCD
        case "quit" where words.count == 1: self = .quit
        default: self = .invalid(line)
        }
    }
}

/// Collects control events from standard input (a dedicated thread reading lines) and from signals
/// (dispatch signal sources: no work in signal handlers). SIGTERM and SIGINT mean quit;
/// SIGUSR1 and SIGUSR2 mean remove and insert. End of input stops reading but does not quit.
final class ControlEvents: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [ControlEvent] = []  // Guarded by `condition`.
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "cps-vcard.signals")

    init(signals: [Int32: ControlEvent]) {
        for (number, event) in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.post(event) }
            source.resume()
            sources.append(source)
        }
        let thread = Thread { [weak self] in
            while let line = readLine() {
                guard let event = ControlEvent(line: line) else { continue }
                self?.post(event)
            }
        }
        thread.name = "cps-vcard-stdin"
        thread.start()
    }

    func post(_ event: ControlEvent) {
        condition.lock()
        pending.append(event)
        condition.signal()
        condition.unlock()
    }

    /// Blocks until the next event.
    func next() -> ControlEvent {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty { condition.wait() }
        return pending.removeFirst()
    }
}

/// One status line on standard error.
func status(_ message: String) {
    FileHandle.standardError.write(Data(("cps-vcard: " + message + "\n").utf8))
}
