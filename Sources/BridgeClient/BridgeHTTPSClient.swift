import Foundation
package import NIOCore
package import NIOHTTP1
import NIOPosix
package import NIOSSL
import SwiftASN1
package import X509

/// A small HTTPS/1.1 client for talking to cpsd's bridge as the extension does: one kept-alive
/// connection, synchronous requests. For `cpsctl bench bridge` and `cpsctl diag`; not a general client.
///
/// The server is authenticated either by pinning (it must present exactly the certificate in the
/// bridge's store, `bridge.pem`, which only this user can have made), or, for `diag`, as a browser that
/// trusts the local CA would: its chain must lead to `ca.pem`, checked by swift-certificates. (BoringSSL's
/// chain builder, which NIOSSL uses, refuses the local CA's IP-address name constraints that OpenSSL,
/// NSS and Chromium accept, so NIOSSL's own chain check cannot be used.) NIOSSL still checks the
/// server's identity (the address connected to, or the host name) against the certificate.
package final class BridgeHTTPSClient {
    package struct Response {
        package var status: Int
        package var body: [UInt8]
        package var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let collector: ResponseCollector
    package let host: String
    package let port: Int

    package convenience init(host: String = "127.0.0.1", port: Int, pinnedCertificatePEM: String, timeout: TimeAmount = .seconds(5)) throws {
        let pinned = try NIOSSLCertificate(bytes: Array(pinnedCertificatePEM.utf8), format: .pem)
        try self.init(host: host, port: port, timeout: timeout) { presented, promise in
            promise.succeed(presented.first == pinned ? .certificateVerified : .failed)
        }
    }

    /// Trusts the server when its chain leads to the CA in `caPEM` (RFC 5280 rules, name constraints
    /// included, validity now).
    package convenience init(host: String = "127.0.0.1", port: Int, caPEM: String, timeout: TimeAmount = .seconds(5)) throws {
        let root = try Certificate(pemEncoded: caPEM)
        try self.init(host: host, port: port, timeout: timeout) { presented, promise in
            promise.completeWithTask { await Self.verify(presented, root: root) }
        }
    }

    private init(host: String, port: Int, timeout: TimeAmount, verify: @escaping @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void
    ) throws {
        self.host = host
        self.port = port
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: tls)
        let collector = ResponseCollector()
        self.collector = collector
        let serverHostname: String? = host.first?.isNumber == true || host.contains(":") ? nil : host
        do {
            channel = try ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(
                            context: context, serverHostname: serverHostname, customVerificationCallback: verify))
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// The peer's chain verified up to `root` only.
    package static func verify(_ chain: [NIOSSLCertificate], root: Certificate) async -> NIOSSLVerificationResult {
        guard let certificates = try? chain.map({ try Certificate(derEncoded: try $0.toDERBytes()) }),
            let leaf = certificates.first
        else { return .failed }
        var verifier = Verifier(rootCertificates: CertificateStore([root])) { RFC5280Policy() }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(certificates.dropFirst()))
        if case .validCertificate = result { return .certificateVerified }
        return .failed
    }

    deinit {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// One request; waits for the whole answer, or fails after `timeout` when given (a program squatting
    /// the port may accept the connection and never answer).
    package func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8]? = nil, timeout: TimeAmount? = nil
    ) throws -> Response {
        var fields = HTTPHeaders(headers)
        fields.replaceOrAdd(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        if let body { fields.replaceOrAdd(name: "Content-Length", value: "\(body.count)") }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let collector = collector
        channel.eventLoop.execute { collector.expect(promise) }  // before the request, on the loop that answers
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: fields)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let expiry = timeout.map { timeout in
            channel.eventLoop.scheduleTask(in: timeout) { collector.expire(BridgeClientTimeout(seconds: timeout.nanoseconds / 1_000_000_000)) }
        }
        defer { expiry?.cancel() }
        return try promise.futureResult.wait()
    }
}
