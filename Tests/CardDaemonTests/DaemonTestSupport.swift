import CardDaemon
import CardTestSupport
import Foundation
import Logging
import PKCS11
import SmartCardCore
import Testing
import VirtualCard

/// A card that records what it is sent, for tests that count APDUs or check their order. It wraps a
/// real simulator; `onCommand` may act on the world (pull the card) before the command is answered.
final class RecordingCard: CardSimulator, @unchecked Sendable {
    enum Entry: Equatable {
        /// A command's INS byte and P2.
        case command(ins: UInt8, p2: UInt8)
        /// A VERIFY without data (`00 20 00 ref`): asks the tries left, compares nothing, spends nothing.
        case verifyStatus(p2: UInt8)
        case reset
    }

    private let inner: any CardSimulator
    private let lock = NSLock()
    private var entries: [Entry] = []
    private var hook: (@Sendable ([UInt8]) -> Void)?

    init(_ inner: any CardSimulator = TestCards.card()) { self.inner = inner }

    var atr: [UInt8] { inner.atr }
    var log: [Entry] { lock.withLock { entries } }
    var commandCount: Int { log.filter { if case .command = $0 { true } else { false } }.count }

    func onCommand(_ hook: (@Sendable ([UInt8]) -> Void)?) { lock.withLock { self.hook = hook } }

    /// The next command with this INS gets a one-byte answer, which no card gives (a garbled exchange).
    func garbleNext(ins: UInt8) { lock.withLock { garbled = ins } }
    private var garbled: UInt8?

    func powerOn() { inner.powerOn() }
    func powerOff() { inner.powerOff() }
    func reset() {
        lock.withLock { entries.append(.reset) }
        inner.reset()
    }

    func process(_ command: [UInt8]) -> [UInt8] {
        let hook = lock.withLock {
            if command.count == 4 && command[1] == 0x20 {
                entries.append(.verifyStatus(p2: command[3]))
            } else if command.count >= 4 {
                entries.append(.command(ins: command[1], p2: command[3]))
            }
            return self.hook
        }
        hook?(command)
        let answer = inner.process(command)
        let garble = lock.withLock {
            defer { if command.count > 1, garbled == command[1] { garbled = nil } }
            return command.count > 1 && garbled == command[1]
        }
        return garble ? [0x6F] : answer
    }
}

/// A card that is not a CPS3: it is never asked anything.
final class ForeignCard: CardSimulator, @unchecked Sendable {
    let atr: [UInt8] = [0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6A]
    func powerOn() {}
    func powerOff() {}
    func reset() {}
    func process(_ command: [UInt8]) -> [UInt8] { [0x6D, 0x00] }
}

/// Log lines kept in memory, to check the audit trail and that no secret is ever logged.
final class LogCapture: @unchecked Sendable {
    struct Line {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var stored: [Line] = []
    var lines: [Line] { lock.withLock { stored } }
    func append(_ line: Line) { lock.withLock { stored.append(line) } }

    var logger: Logger {
        Logger(label: "cpsd.test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var merged = metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            capture.append(
                Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// A registry and its card service over an in-process backend, with the registry running for the test's length.
struct Daemon {
    static let reader = "Daemon Test Reader 00"
    static let otherReader = "Daemon Test Reader 01"

    let backend = VirtualBackend()
    let logs = LogCapture()
    let registry: ReaderRegistry
    let cards: CardService

    /// `verifiedHold`: as cpsd's `verified-hold-ms`; zero (reset after every operation) unless a test sets it.
    init(verifiedHold: Duration = .zero) {
        registry = ReaderRegistry(backend: backend, logger: logs.logger, verifiedHold: verifiedHold)
        cards = CardService(registry: registry, logger: logs.logger)
    }

    /// Runs `body` while the registry consumes the backend's events, then stops the registry.
    static func run(verifiedHold: Duration = .zero, _ body: (Daemon) async throws -> Void) async throws {
        let daemon = Daemon(verifiedHold: verifiedHold)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await daemon.registry.run() }
            try await body(daemon)
            group.cancelAll()
        }
    }

    /// A reader holding a recording CPS3, and the slot once its token is read.
    func readerWithCard(_ name: String = reader, card: RecordingCard = RecordingCard()) async throws -> SlotState {
        backend.plugReader(name)
        try backend.insert(card, into: name)
        return try await token(in: name)
    }

    /// Waits until `reader`'s slot shows a token whose generation is not `notGeneration`.
    func token(in reader: String, notGeneration: UInt64? = nil) async throws -> SlotState {
        try await eventually("a token in \(reader)") {
            cards.slots().first { $0.readerName == reader && $0.token != nil && $0.token?.generation != notGeneration }
        }
    }

    func summary(of reader: String) -> ReaderSummary? { registry.readers().first { $0.readerName == reader } }

    /// True when the card in `reader` is verified now, asked through a connection of its own with
    /// VERIFY without data (`00 20 00 01`: 9000 only when verified).
    func cardIsVerified(_ reader: String = reader, reference: UInt8 = 0x01) throws -> Bool {
        let connection = try backend.connect(to: reader)
        defer { connection.disconnect(.leave) }
        return try connection.transmit([0x00, 0x20, 0x00, reference]) == [0x90, 0x00]
    }

    /// Resets the card in `reader` from a connection of its own, as another process ending with SCARD_RESET_CARD.
    func resetBehindTheDaemon(_ reader: String = reader) throws {
        let connection = try backend.connect(to: reader)
        connection.disconnect(.reset)
    }

    /// Sends raw APDUs to the card in `reader` through a connection of its own, as another middleware
    /// or a direct PC/SC tool would, behind the daemon's back. Returns the last status word.
    @discardableResult
    func sendBehindTheDaemon(_ commands: [[UInt8]], _ reader: String = reader) throws -> [UInt8] {
        let connection = try backend.connect(to: reader)
        defer { connection.disconnect(.leave) }
        var last: [UInt8] = []
        for command in commands { last = try connection.transmit(command) }
        return Array(last.suffix(2))
    }
}

/// Runs `body` on a dedicated thread, as p11-kit connection threads call the card service.
@discardableResult
func onThread<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// The test PIN and PUK, and wrong ones, as secrets (never as strings).
enum Codes {
    static func secret(_ bytes: [UInt8]) -> SecretBytes {
        var bytes = bytes
        return SecretBytes(consuming: &bytes)
    }
    static func pin() -> SecretBytes { secret(TestCards.pin) }
    static func wrongPIN() -> SecretBytes { secret([0x39, 0x39, 0x39, 0x39]) }
    static func puk() -> SecretBytes { secret(TestCards.puk) }
    static func none() -> SecretBytes { secret([]) }
}

/// A SHA-256 DigestInfo, as TLS 1.2 client authentication asks the authentication key to sign.
let sha256DigestInfo: [UInt8] =
    [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
    + [UInt8](repeating: 0xAB, count: 32)
