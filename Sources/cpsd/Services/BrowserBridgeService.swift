import BrowserBridge
import CardDaemon
import Logging
import ServiceLifecycle

/// The browser bridge as a service. A bridge that cannot start (port taken, certificate unwritable) is
/// logged and this service ends quietly: practice software on the PKCS#11 socket keeps working. Last in the
/// group, so it is the first to stop.
struct BrowserBridgeService: Service {
    let settings: Configuration
    let portOverride: Int?
    let cards: CardService
    let logger: Logger

    func run() async throws {
        guard let bridge = BridgeStartup.start(settings: settings, portOverride: portOverride, cards: cards, logger: logger)
        else { return }
        try? await gracefulShutdown()
        await onThreadOfItsOwn(named: "cpsd-bridge-stop") { bridge.stop() }
    }
}
