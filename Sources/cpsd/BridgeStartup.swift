import BridgeProtocol
import BrowserBridge
import CardDaemon
import Foundation
import LocalCA
import Logging
import PKCS11
import PinEntry

/// Starts the browser bridge next to the PKCS#11 socket. A bridge that cannot start (its port taken,
/// its certificate unwritable) is logged and left off: practice software on the socket keeps working.
enum BridgeStartup {
    static func start(settings: Configuration, portOverride: Int?, cards: CardService, logger: Logger) -> BridgeServer? {
        guard settings.bridgeEnabled else {
            logger.info("bridge disabled (bridge = off)")
            return nil
        }
        var configuration = BridgeConfiguration()
        configuration.port = portOverride ?? settings.bridgePort
        configuration.userTimeout = settings.bridgeUserTimeout
        configuration.extraChromiumIDs = Set(settings.bridgeExtensionIDs)
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory())
        let identity: LocalServerIdentity
        do {
            let loaded = try store.loadOrCreate()
            identity = loaded.identity
            if loaded.created {
                logger.notice("bridge: new local CA made; run `cpsctl setup` so browsers trust it", metadata: ["ca": "\(store.caPath)"])
            }
        } catch {
            logger.error("bridge not started: \(error)")
            return nil
        }
        let dialogs = PinEntryDialogs(program: PinEntryProgram(path: settings.pinentryProgram))
        let service = BridgeService(
            configuration: configuration, cards: cards, dialogs: dialogs,
            pairings: PairingRegistry(file: PairingFile(path: PairingFile.defaultPath())), logger: logger)
        let server = BridgeServer(service: service, identity: identity, port: configuration.port, logger: logger)
        do {
            let addresses = try server.start()
            logger.notice("bridge listening", metadata: ["addresses": "\(addresses.joined(separator: " "))"])
            return server
        } catch {
            logger.error("bridge not started: \(error)")
            return nil
        }
    }
}
