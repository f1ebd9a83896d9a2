import ArgumentParser
import BrowserBridge
import CardDaemon
import Foundation
import Logging
import P11KitServer
import PCSC
import PKCS11
import ServiceLifecycle
import UnixSignals
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
        // Until the service group traps them (its first step), a signal must not kill cpsd half-started.
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_IGN) }
        RelocationTable.release()
        // Before any PIN can arrive: no core file, no ptrace by another process of the user.
        for failure in ProcessHardening.disableCoreDumps() {
            FileHandle.standardError.write(Data("cpsd: warning: \(failure)\n".utf8))
        }
        let configPath = config ?? Configuration.defaultPath()
        let settings: Configuration
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
        let registry = ReaderRegistry(backend: PCSCBackend(), logger: logger, verifiedHold: settings.verifiedHold)
        let cards = CardService(registry: registry, logger: logger)
        // Audit lines come from the card service (it sees every card signature with its duration).
        let server = PKCS11SocketServer(socketPath: socketPath, cards: cards, logger: { message in
            logger.info("\(message)")
        })
        server.setPINIdleTimeout(settings.pinIdleTimeout)
        let services = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: ReaderRegistryService(registry: registry)),
                .init(service: PKCS11SocketService(server: server, registry: registry, logger: logger)),
                .init(
                    service: BrowserBridgeService(settings: settings, portOverride: bridgePort, cards: cards, logger: logger),
                    successTerminationBehavior: .ignore),
                .init(service: ConfigurationReloadService(
                    configPath: configPath, load: { [self] in try effective(Configuration.load(path: configPath)) },
                    level: level, server: server, verifiedHold: registry.verifiedHold, cards: cards, logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // SIGTERM/SIGINT stop the services in the reverse order of the list: SIGHUP handling, the bridge,
        // the PKCS#11 socket (its clients disconnected), then the registry (the cards released).
        do {
            try await services.run()
        } catch {
            logger.error("cpsd stopped on an error: \(error)")
            throw ExitCode(1)
        }
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
