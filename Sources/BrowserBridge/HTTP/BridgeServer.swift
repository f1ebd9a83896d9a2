import Dispatch
import Glibc
package import LocalCA
package import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The bridge's listener: HTTPS (TLS 1.2+) on 127.0.0.1 and [::1] only, never on another address.
/// One event-loop thread is plenty (a handful of requests per login); the blocking work runs on the
/// service's worker queue.
///
/// It keeps accepting whatever happens, so the bridge never stops answering and never starves the
/// PKCS#11 socket of file descriptors:
/// - each connection is admitted before TLS (`ConnectionAdmission`: cpsd's own uid only, capped in
///   total and per uid), else closed at once;
/// - `BridgeHTTPHandler` closes a connection that sends no complete request in time;
/// - accept errors back off (`AcceptPause`): NIO keeps the listener open on EMFILE, ENFILE, ENOBUFS,
///   ENOMEM and ECONNABORTED but would spin on accept(2) meanwhile; any other accept error closes the
///   listener, and then `keep` binds it again.
package final class BridgeServer: Sendable {
    private let service: BridgeService
    private let identity: LocalServerIdentity
    private let port: Int
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let listeners = Mutex(Listeners())
    private let workers = DispatchQueue(label: "cpsd.bridge.workers", attributes: .concurrent)
    private let admission: ConnectionAdmission

    private struct Listeners {
        var channels: [any Channel] = []
        var stopping = false
    }

    package init(
        service: BridgeService, identity: LocalServerIdentity, port: Int, logger: Logger,
        caps: ConnectionCaps = ConnectionCaps()
    ) {
        self.service = service
        self.identity = identity
        self.port = port
        self.logger = logger
        admission = ConnectionAdmission(caps: caps, logger: logger)
    }

    /// Binds both loopback addresses. IPv4 must work; [::1] is skipped (and logged) on a host without
    /// IPv6. A port already taken is an error naming it: another program squats the bridge's port.
    package func start() throws(BridgeStartError) -> [String] {
        let bootstrap = try makeBootstrap()
        var bound: [String] = []
        for host in ["127.0.0.1", "::1"] {
            do {
                let channel = try bootstrap.bind(host: host, port: port).wait()
                keep(channel, host: host)
                bound.append(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                stop()
                throw BridgeStartError(.portInUse, "port \(port) is already used by another program (see cpsctl diag)")
            } catch {
                if host == "::1" {
                    logger.notice("bridge: no IPv6 loopback, listening on 127.0.0.1 only", metadata: ["error": "\(error)"])
                    continue
                }
                stop()
                throw BridgeStartError(.bind, "cannot listen on \(host):\(port): \(error)")
            }
        }
        return bound
    }

    package func stop() {
        let channels = listeners.withLock { listeners in
            listeners.stopping = true
            defer { listeners.channels = [] }
            return listeners.channels
        }
        for channel in channels { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
        logger.info("bridge stopped")
    }

    private func makeBootstrap() throws(BridgeStartError) -> ServerBootstrap {
        let context: NIOSSLContext
        do {
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(identity.certificatePEM.utf8), format: .pem))],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            tls.applicationProtocols = ["http/1.1"]
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw BridgeStartError(.tls, "cannot set up TLS: \(error)")
        }
        let (service, workers, admission, logger) = (service, workers, admission, logger)
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptPause(logger: logger))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // A refusal fails the initializer: NIO then closes the socket before any TLS byte.
                    try admission.admit(channel)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(BridgeHTTPHandler(service: service, workers: workers))
                }
            }
    }

    /// Remembers a listening channel, and binds its address again if it ever closes before `stop()`.
    private func keep(_ channel: any Channel, host: String) {
        let stopping = listeners.withLock { listeners in
            if !listeners.stopping { listeners.channels.append(channel) }
            return listeners.stopping
        }
        if stopping {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            guard !listeners.withLock({ $0.stopping }) else { return }
            listeners.withLock { $0.channels.removeAll { $0 === channel } }
            logger.error("bridge: the listener on \(host) closed; binding it again", metadata: ["port": "\(port)"])
            rebind(host: host, delay: .seconds(1))
        }
    }

    /// Binds `host` again after `delay`, with a new bootstrap (a `ServerBootstrap` is not `Sendable`).
    private func rebind(host: String, delay: TimeAmount) {
        group.next().scheduleTask(in: delay) { [self] in
            guard !listeners.withLock({ $0.stopping }) else { return }
            let bound: EventLoopFuture<any Channel>
            do {
                bound = try makeBootstrap().bind(host: host, port: port)
            } catch {
                bound = group.next().makeFailedFuture(error)
            }
            bound.whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    logger.notice("bridge listening again", metadata: ["address": "\(host):\(port)"])
                    keep(channel, host: host)
                case .failure(let error):
                    logger.error("bridge: cannot listen on \(host) again, retrying in 5 s", metadata: ["error": "\(error)"])
                    rebind(host: host, delay: .seconds(5))
                }
            }
        }
    }
}
