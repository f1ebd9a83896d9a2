import Dispatch
package import LocalCA
package import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The bridge's listener: HTTPS (TLS 1.2+) on 127.0.0.1 and [::1] only, never on another address.
/// One event-loop thread is plenty (a handful of requests per login); the blocking work runs on the
/// service's worker queue.
package final class BridgeServer: Sendable {
    private let service: BridgeService
    private let identity: LocalServerIdentity
    private let port: Int
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channels = ChannelList()
    private let workers = DispatchQueue(label: "cpsd.bridge.workers", attributes: .concurrent)

    package init(service: BridgeService, identity: LocalServerIdentity, port: Int, logger: Logger) {
        self.service = service
        self.identity = identity
        self.port = port
        self.logger = logger
    }

    /// Binds both loopback addresses. IPv4 must work; [::1] is skipped (and logged) on a host without
    /// IPv6. A port already taken is an error naming it: another program squats the bridge's port.
    package func start() throws(BridgeStartError) -> [String] {
        let context: NIOSSLContext
        do {
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(identity.certificatePEM.utf8), format: .pem))],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            tls.applicationProtocols = ["http/1.1"]
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw BridgeStartError.tls("\(error)")
        }
        let (service, workers) = (service, workers)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.addHandler(IdleStateHandler(readTimeout: .seconds(30)))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(BridgeHTTPHandler(service: service, workers: workers))
                }
            }
        var bound: [String] = []
        for host in ["127.0.0.1", "::1"] {
            do {
                let channel = try bootstrap.bind(host: host, port: port).wait()
                channels.append(channel)
                bound.append(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                stop()
                throw BridgeStartError.portInUse(port)
            } catch {
                if host == "::1" {
                    logger.notice("bridge: no IPv6 loopback, listening on 127.0.0.1 only", metadata: ["error": "\(error)"])
                    continue
                }
                stop()
                throw BridgeStartError.bind("\(host):\(port): \(error)")
            }
        }
        return bound
    }

    package func stop() {
        for channel in channels.takeAll() { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }
}

package enum BridgeStartError: Error, CustomStringConvertible {
    case portInUse(Int)
    case bind(String)
    case tls(String)

    package var description: String {
        switch self {
        case .portInUse(let port): "port \(port) is already used by another program (see cpsctl diag)"
        case .bind(let reason): "cannot listen on \(reason)"
        case .tls(let reason): "cannot set up TLS: \(reason)"
        }
    }
}

/// The listening channels, for `stop()`.
private final class ChannelList: @unchecked Sendable {  // `channels` under `lock`
    private let lock = NSLock()
    private var channels: [any Channel] = []
    func append(_ channel: any Channel) { lock.withLock { channels.append(channel) } }
    func takeAll() -> [any Channel] { lock.withLock { defer { channels = [] }; return channels } }
}

import Foundation
import Glibc
