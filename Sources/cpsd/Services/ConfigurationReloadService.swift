import CardDaemon
import Logging
import P11KitServer
import PKCS11
import ServiceLifecycle
import UnixSignals

/// SIGHUP as an event: the configuration file is read again (a broken one is refused and the previous
/// settings stay) and every card forgets its verified PIN.
struct ConfigurationReloadService: Service {
    let configPath: String
    let load: @Sendable () throws -> Configuration
    let level: SharedLogLevel
    let server: PKCS11SocketServer
    let verifiedHold: VerifiedHoldWindow
    let cards: CardService
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload()
            logger.notice("SIGHUP: every card forgets its verified PIN")
            for slot in cards.slots() {
                _ = try? await cards.perform(cards.verificationResetOperation(slot: slot.id))
            }
        }
    }

    private func reload() {
        do {
            let settings = try load()
            level.value = settings.logLevel
            server.setPINIdleTimeout(settings.pinIdleTimeout)
            verifiedHold.value = settings.verifiedHold
            logger.notice("SIGHUP: configuration reloaded", metadata: [
                "config": "\(configPath)", "log_level": "\(settings.logLevel)",
                "pin_idle_timeout": "\(settings.pinIdleTimeout.map { "\($0)" } ?? "none")",
                "verified_hold": "\(settings.verifiedHold)",
            ])
        } catch {
            logger.error("SIGHUP: configuration not reloaded, keeping the previous one: \(error)")
        }
    }
}
