import Glibc
import Logging
import NIOCore

/// On the listening channel: when accept(2) fails for want of resources (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM), stops accepting for `pause`, then accepts again; the listener stays open, and connections
/// wait in the kernel's backlog meanwhile.
///
/// Why not NIO's `AcceptBackoffHandler` (which the classic `ServerBootstrap.bind` does not even add):
/// in NIO 2.101 a failed accept leaves the channel's `readPending` set, so the listening socket stays
/// registered for reads; epoll is level-triggered and wakes the loop again at once, and the loop spins
/// on accept(2) at 100% CPU, the handler only delaying the *next* read request (measured with it: 3.3 s
/// of CPU in 3 s out of descriptors; BridgePeerTests "out of descriptors"). Turning `autoRead` off
/// takes the socket out of epoll; turning it on again re-arms it.
final class AcceptPause: ChannelInboundHandler {
    typealias InboundIn = any Channel

    static let pause = TimeAmount.seconds(1)
    static let resourceErrors: Set<CInt> = [EMFILE, ENFILE, ENOBUFS, ENOMEM]

    private let logger: Logger
    private var paused = false
    private var lastLog: NIODeadline?
    private var pausesNotLogged = 0

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let ioError = error as? IOError, Self.resourceErrors.contains(ioError.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        guard !paused else { return }
        paused = true
        try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        note(ioError)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.pause) {
            let (handler, context) = bound.value
            handler.paused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    /// One line a minute at most while the shortage lasts.
    private func note(_ error: IOError) {
        let now = NIODeadline.now()
        if let lastLog, now - lastLog < .minutes(1) {
            pausesNotLogged += 1
            return
        }
        logger.warning(
            "bridge: cannot accept a connection, pausing 1 s",
            metadata: ["error": "\(error)", "pauses-not-logged": "\(pausesNotLogged)"])
        lastLog = now
        pausesNotLogged = 0
    }
}
