import ErrorShape
import NIOCore
import NIOHTTP1
package import NIOPosix
package import NIOSSL

/// A small HTTPS/1.1 server on SwiftNIO's async channels: TLS, HTTP/1.1 parsing, one task per connection,
/// requests answered in order by an async route function. Bound first (so a `--port 0` caller learns the
/// port before building its routes), then run.
package struct DemoHTTPServer: Sendable {
    package typealias Handler = @Sendable (DemoRequest) async -> DemoResponse
    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Request bodies larger than this are answered 413 (a Web eID token is at most 10 000 bytes).
    package static let maxBodySize = 16 * 1024

    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let requestsClientCertificate: Bool
    package let port: Int

    /// Listens on `host:port` (0 = any free port) with `tls`. With `clientCertificates`, each request
    /// carries the client certificate the TLS layer verified, if any.
    package static func bind(
        host: String, port: Int, tls: TLSConfiguration, clientCertificates: Bool = false,
        group: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> DemoHTTPServer {
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let bound = channel.channel.localAddress?.port else {
            throw DemoServerError("the listening socket has no port")
        }
        return DemoHTTPServer(
            serverChannel: channel, requestsClientCertificate: clientCertificates, port: bound)
    }

    /// Serves until the task is cancelled or the listening socket fails. A connection's failure (a TLS
    /// handshake refused, a client gone) ends that connection only. `log` gets one line per request and
    /// per failed connection (a refused client certificate shows there).
    package func run(log: @escaping @Sendable (String) -> Void = { _ in }, _ handler: @escaping Handler) async throws {
        try await serverChannel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask {
                        do {
                            try await serve(connection, handler, log: log)
                        } catch {
                            log("port \(port): connection ended: \(error)")
                        }
                    }
                }
            }
        }
    }

    private func serve(_ connection: Connection, _ handler: Handler, log: (String) -> Void) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                    tooLarge = false
                case .body(let buffer):
                    if body.count + buffer.readableBytes > Self.maxBodySize {
                        tooLarge = true
                    } else {
                        body += buffer.readableBytesView
                    }
                case .end:
                    guard let requestHead = head else { continue }
                    let response: DemoResponse
                    if tooLarge {
                        response = .error(413, code: "payloadTooLarge", message: "the body is over \(Self.maxBodySize) bytes")
                    } else {
                        let request = try await makeRequest(requestHead, body: body, channel: connection.channel)
                        response = await handler(request)
                    }
                    log("port \(port): \(requestHead.method.rawValue) \(requestHead.uri) \(response.status)")
                    let keepAlive = requestHead.isKeepAlive && !tooLarge
                    try await write(response, for: requestHead, keepAlive: keepAlive, to: outbound)
                    if !keepAlive { return }
                    head = nil
                }
            }
        }
    }

    private func makeRequest(_ head: HTTPRequestHead, body: [UInt8], channel: any Channel) async throws -> DemoRequest {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        var certificate: [UInt8]?
        if requestsClientCertificate {
            // The handshake is over once a request arrived; the peer certificate is the one TLS verified.
            certificate = try await channel.nioSSL_peerCertificate().get()?.toDERBytes()
        }
        return DemoRequest(
            method: head.method.rawValue, path: path, headers: head.headers.map { ($0.name, $0.value) }, body: body,
            clientCertificateDER: certificate)
    }

    private func write(
        _ response: DemoResponse, for request: HTTPRequestHead, keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
        headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: request.version, status: .init(statusCode: response.status), headers: headers)
        try await outbound.write(.head(head))
        if request.method != .HEAD, !response.body.isEmpty {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        }
        try await outbound.write(.end(nil))
    }
}

/// Why the demo server could not start. The shape of SmartCardCore's `CodedError`, written out (this target does
/// not depend on SmartCardCore); one code, as every failure here stops the demo alike, so `init` takes the reason.
package struct DemoServerError: CodedError {
    package enum Code: String, ErrorCode {
        case startFailed = "start failed"
    }

    package let code: Code
    package let reason: String

    package init(_ reason: String) {
        self.code = .startFailed
        self.reason = reason
    }

    /// The reason alone: the demo prints it to the person who started it.
    package var description: String { reason }
}
