import Logging
import Synchronization

/// A log level every logger of the process shares, so a configuration reload changes it everywhere.
final class SharedLogLevel: Sendable {
    private let level: Mutex<Logger.Level>
    init(_ level: Logger.Level) { self.level = Mutex(level) }
    var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// swift-log's stderr handler, reading its level from a `SharedLogLevel`.
struct ReloadableLogHandler: LogHandler {
    private var base: StreamLogHandler
    private let shared: SharedLogLevel

    init(label: String, level: SharedLogLevel) {
        base = StreamLogHandler.standardError(label: label)
        shared = level
    }

    var logLevel: Logger.Level {
        get { shared.value }
        set { shared.value = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { base.log(event: event) }
}
