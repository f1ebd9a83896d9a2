import Dispatch
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection of the bridge, after TLS. Collects a request (the body bounded to 8 KiB:
/// beyond that the answer is 413 and the connection closes, the rest is never buffered), runs it
/// through `BridgeService` on a worker thread (dialogs and card work block), and writes the answer.
/// No CORS header is ever written: only the extension, which needs none, may call.
///
/// A connection cannot be held idle: from its start, and again after each answer, a whole request
/// must arrive within `requestDeadline` (TLS handshake included), else the connection closes. The
/// deadline counts from the start, not from the last byte read, so a client trickling a byte at a
/// time gains nothing. A connection serves at most `maximumRequests`, the last answered with
/// `Connection: close`.
final class BridgeHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: BridgeService
    private let workers: DispatchQueue
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// A request is with the service (perhaps waiting for the user's PIN): the connection is not idle.
    private var inFlight = false
    private var served = 0
    private var deadline: Scheduled<Void>?

    static let requestDeadline = TimeAmount.seconds(30)
    static let maximumRequests = 1000

    init(service: BridgeService, workers: DispatchQueue) {
        self.service = service
        self.workers = workers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.removeAll(keepingCapacity: true)
            tooLarge = false
        case .body(var buffer):
            guard !tooLarge else { return }
            if body.count + buffer.readableBytes > CallerPolicy.maximumBodyBytes {
                tooLarge = true
                body.removeAll()
            } else {
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if tooLarge {
                let error = BridgeError(.payloadTooLarge, "the body may not exceed \(CallerPolicy.maximumBodyBytes) bytes")
                respond(context: context, keepAlive: false, BridgeResponse(error))
                return
            }
            dispatch(context: context, requestHead, body: body)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) { armDeadline(context: context) }

    func handlerRemoved(context: ChannelHandlerContext) { cancelDeadline() }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    /// Closes the connection unless a request reaches the service within `requestDeadline`. Nothing
    /// is closed while a request is in flight (the user may be typing the PIN): closing then would make
    /// the browser send the request again on a new connection (it does so for a reused connection
    /// closed before any answer), and the repeat would be refused as ERR_ACTION_PENDING.
    private func armDeadline(context: ChannelHandlerContext) {
        cancelDeadline()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: Self.requestDeadline) {
            let (handler, context) = bound.value
            handler.deadline = nil
            if !handler.inFlight { context.close(promise: nil) }
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }

    private func dispatch(context: ChannelHandlerContext, _ requestHead: HTTPRequestHead, body: [UInt8]) {
        let request = BridgeRequestHead(
            method: requestHead.method.rawValue, path: requestHead.uri,
            headers: requestHead.headers.map { (name: $0.name, value: $0.value) })
        served += 1
        let keepAlive = requestHead.isKeepAlive && served < Self.maximumRequests
        cancelDeadline()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let (service, eventLoop) = (service, context.eventLoop)
        inFlight = true
        workers.async {
            let response = service.handle(request, body: body)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.inFlight = false
                handler.respond(context: context, keepAlive: keepAlive, response)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, keepAlive: Bool, _ response: BridgeResponse) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if keepAlive {
            armDeadline(context: context)
        } else {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
