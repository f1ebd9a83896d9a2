import CardDaemon
import ServiceLifecycle

/// The reader registry as a service: it follows PC/SC's reader and card events until cpsd shuts down.
/// First in the group, so it stops last, after everything that uses the cards.
struct ReaderRegistryService: Service {
    let registry: ReaderRegistry

    func run() async throws {
        await cancelWhenGracefulShutdown { await registry.run() }
    }
}
