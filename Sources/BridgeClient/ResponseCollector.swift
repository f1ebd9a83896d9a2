import NIOCore
import NIOHTTP1

/// Gathers one response at a time into the promise `expect` set.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {  // used on the channel's loop
    typealias InboundIn = HTTPClientResponsePart
    private var promise: EventLoopPromise<BridgeHTTPSClient.Response>?
    private var status = 0
    private var body: [UInt8] = []

    func expect(_ promise: EventLoopPromise<BridgeHTTPSClient.Response>) { self.promise = promise }

    /// Fails the pending request, if one still is (called on the channel's loop).
    func expire(_ error: any Error) {
        promise?.fail(error)
        promise = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            promise?.succeed(BridgeHTTPSClient.Response(status: status, body: body))
            promise = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
    }
}
