import CardDaemon
import Foundation
import Logging
import P11KitServer
import ServiceLifecycle

/// The PKCS#11 socket as a service. It opens once the registry has read the cards present at start (the
/// client that socket-activated cpsd asks for the slot list at once), and closes at shutdown, before the
/// registry stops, after the bridge.
struct PKCS11SocketService: Service {
    let server: PKCS11SocketServer
    let registry: ReaderRegistry
    let logger: Logger

    func run() async throws {
        await registry.initialCardsRead()
        do {
            // Under systemd the socket comes from cpsd.socket; otherwise cpsd makes it.
            if try !server.startWithInheritedListener() { try server.start() }
        } catch {
            logger.error("cannot serve PKCS#11 on \(server.socketPath): \(error)")
            throw error
        }
        logger.notice("cpsd started", metadata: ["socket": "\(server.socketPath)", "pid": "\(getpid())"])
        try? await gracefulShutdown()
        // stop() waits for every client thread to end: not on a thread of the pool.
        await onThreadOfItsOwn(named: "cpsd-p11-stop") { server.stop() }
    }
}
