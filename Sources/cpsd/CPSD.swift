import ArgumentParser
import BrowserBridge
import CardDaemon
import Dispatch
import Foundation
import Logging
import P11KitServer
import PCSC
import PKCS11
import SmartCardCore

/// `cpsd`: the per-user daemon that owns the card readers and serves the card as a PKCS#11 token on a
/// Unix socket (p11-kit's RPC). The composition root: configuration, logging, and the services.
@main
struct CPSD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpsd",
        abstract: "CPS card daemon: PKCS#11 over a Unix socket for browsers, practice software and tools.",
        discussion: """
            Listens by default at p11-kit's client address, $XDG_RUNTIME_DIR/p11-kit/pkcs11, so the stock \
            p11-kit-client.so finds it without configuration. Under systemd the socket comes from cpsd.socket. \
            SIGTERM/SIGINT stop it cleanly; SIGHUP reloads the configuration file and makes every card \
            forget its verified PIN.
            """,
        version: Release.version,
    )

    @Option(name: .long, help: "Unix socket path for PKCS#11 clients.")
    var socket: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (overrides the file).")
    var logLevel: String?

    @Option(name: .long, help: "Configuration file (default: $XDG_CONFIG_HOME/cpsd/cpsd.conf).")
    var config: String?

    @Option(name: .long, help: "Port of the browser bridge on 127.0.0.1 and [::1] (default 36443).")
    var bridgePort: Int?

    @Flag(name: .long, help: "Do not start the browser bridge.")
    var noBridge = false

    @Option(name: .long, help: "The pinentry program for PIN dialogs (default: pinentry from PATH).")
    var pinentry: String?

    func run() async throws {
        let signals = SignalWatcher()  // first: from here on SIGTERM means a clean stop
        // Before any PIN can arrive: no core file, no ptrace by another process of the user.
        for failure in ProcessHardening.disableCoreDumps() {
            FileHandle.standardError.write(Data("cpsd: warning: \(failure)\n".utf8))
        }
        let configPath = config ?? Configuration.defaultPath()
        var settings: Configuration
        do {
            settings = try effective(Configuration.load(path: configPath))
        } catch {
            FileHandle.standardError.write(Data("cpsd: \(error)\n".utf8))
            throw ExitCode(StartFailure.configuration)
        }
        let level = SharedLogLevel(settings.logLevel)
        let logger = Self.makeLogger(level: level)
        let socketPath = try socket ?? DefaultPaths.pkcs11Socket()
        // Before PC/SC and the socket: a second cpsd leaves at once, touching neither.
        let instance = try SocketClaim.claim(socketPath: socketPath, logger: logger)
        SocketClaim.raiseFileLimit(logger: logger)
        let backend = PCSCBackend()
        let registry = ReaderRegistry(backend: backend, logger: logger)
        let driver = DaemonTokenDriver(registry: registry, logger: logger)
        let registryTask = Task { await registry.run() }
        await StartupBarrier.waitForInitialCards(backend: backend, registry: registry)
        // Audit lines come from the driver (it sees every card signature with its duration).
        let server = PKCS11SocketServer(socketPath: socketPath, driver: driver, logger: { message in
            logger.info("\(message)")
        })
        server.setPINIdleTimeout(settings.pinIdleTimeout)
        do {
            // Under systemd the socket comes from cpsd.socket; otherwise cpsd makes it.
            if try !server.startWithInheritedListener() { try server.start() }
        } catch {
            logger.error("cannot serve PKCS#11 on \(socketPath): \(error)")
            throw ExitCode(1)
        }
        let bridge = BridgeStartup.start(settings: settings, portOverride: bridgePort, driver: driver, logger: logger)
        logger.notice("cpsd started", metadata: ["socket": "\(socketPath)", "pid": "\(getpid())"])
        for await signal in signals.events {
            if signal == SIGHUP {
                do {
                    settings = try effective(Configuration.load(path: configPath))
                    level.value = settings.logLevel
                    server.setPINIdleTimeout(settings.pinIdleTimeout)
                    logger.notice("SIGHUP: configuration reloaded", metadata: [
                        "config": "\(configPath)", "log_level": "\(settings.logLevel)",
                        "pin_idle_timeout": "\(settings.pinIdleTimeout.map { "\($0)" } ?? "none")",
                    ])
                } catch {
                    logger.error("SIGHUP: configuration not reloaded, keeping the previous one: \(error)")
                }
                logger.notice("SIGHUP: every card forgets its verified PIN")
                // The driver blocks on the reader actors: never from a task, so from a thread of its own.
                Thread { for slot in driver.slots() { driver.forgetVerification(slot: slot.id) } }.start()
                continue
            }
            logger.notice("stopping", metadata: ["signal": "\(signal)"])
            break
        }
        bridge?.stop()
        server.stop()
        registryTask.cancel()
        await registryTask.value
        await PCSCBackend.waitForMonitorsToFinish()
        withExtendedLifetime(instance) {}  // the lock is held until the socket is gone
        logger.notice("cpsd stopped")
        // Leave without running exit-time destructors: libpcsclite's frees its context list while a
        // thread that still holds a PC/SC handle (a reader's connection being released) may walk it,
        // which crashed cpsd at SIGTERM twice in one clean test run. Everything is stopped and logged.
        _exit(0)
    }

    /// The file's settings, with the command line's `--log-level` on top.
    private func effective(_ file: Configuration) throws -> Configuration {
        var settings = file
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level \(logLevel)") }
            settings.logLevel = level
        }
        if noBridge { settings.bridgeEnabled = false }
        if let pinentry { settings.pinentryProgram = pinentry }
        return settings
    }

    static func makeLogger(level: SharedLogLevel) -> Logger {
        Logger(label: "cpsd") { label in ReloadableLogHandler(label: label, level: level) }
    }
}

/// Where cpsd listens unless told otherwise.
enum DefaultPaths {
    /// p11-kit-client.so's default address: `$XDG_RUNTIME_DIR/p11-kit/pkcs11` (the directory is created 0700).
    static func pkcs11Socket(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let runtime = environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
        let directory = runtime + "/p11-kit"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return directory + "/pkcs11"
    }
}

/// SIGTERM, SIGINT and SIGHUP as an async stream (dispatch sources: no work in signal handlers).
final class SignalWatcher: @unchecked Sendable {  // the sources are only kept alive, never touched again
    let events: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        events = stream
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }
}
