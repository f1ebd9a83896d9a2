import Foundation
import Synchronization
package import PKCS11

/// Serves PKCS#11 on a Unix socket through libp11-kit's RPC server, so that the stock
/// `p11-kit-client.so` and `p11-kit-proxy.so` reach the cards (DESIGN.md decision 2).
///
/// One dedicated thread accepts; each accepted client gets its own thread running p11-kit's blocking
/// serve loop, and its own `PKCS11Connection` (p11-kit gives no per-client isolation). Only clients of
/// the server's own uid are served (SO_PEERCRED). When a client goes away, however it goes, its
/// connection is closed: PINs zeroed, sessions and login gone, the card service told.
package final class PKCS11SocketServer: Sendable {
    package typealias Logger = @Sendable (String) -> Void

    private struct State {
        var listener: Int32?
        var stopping = false
        var ownsSocketFile = true
        var live: [ClientID: Int32] = [:]
        var connections: [ClientID: PKCS11Connection] = [:]
        var idleTimeout: Duration?
        var nextClient: UInt64 = 1
    }

    package let socketPath: String
    private let cards: any TokenService
    private let log: Logger
    private let audit: (@Sendable (SignAudit) -> Void)?
    private let state = Mutex(State())
    private let sweeperWake = DispatchSemaphore(value: 0)
    /// Cuts an accept back-off short when `stop()` is called.
    private let acceptWake = DispatchSemaphore(value: 0)
    private let threads = DispatchGroup()

    /// `audit` is called once per signature the card was asked for, from the client's thread.
    package init(
        socketPath: String, cards: any TokenService, audit: (@Sendable (SignAudit) -> Void)? = nil,
        logger: @escaping Logger = { _ in }
    ) {
        self.socketPath = socketPath
        self.cards = cards
        self.audit = audit
        self.log = logger
    }

    /// Creates the socket (mode 0600) and starts accepting on a dedicated thread.
    package func start() throws(PKCS11SocketServerError) {
        try start(listening: try UnixSocket.listen(path: socketPath), ownsSocketFile: true)
    }

    /// Serves on a listening socket systemd passed (socket activation, `cpsd.socket`): systemd owns the
    /// socket file, so `stop()` leaves it in place. Returns false when this process was not given one.
    package func startWithInheritedListener() throws(PKCS11SocketServerError) -> Bool {
        guard let fd = SystemdActivation.inheritedListener() else { return false }
        try start(listening: fd, ownsSocketFile: false)
        return true
    }

    private func start(listening fd: Int32, ownsSocketFile: Bool) throws(PKCS11SocketServerError) {
        let started: Bool = state.withLock { state in
            guard state.listener == nil, !state.stopping else { return false }
            state.listener = fd
            state.ownsSocketFile = ownsSocketFile
            return true
        }
        guard started else {
            UnixSocket.close(fd)
            throw PKCS11SocketServerError(.alreadyStarted, "start() called twice")
        }
        threads.enter()
        let thread = Thread { [self] in
            acceptLoop(fd)
            threads.leave()
        }
        thread.name = "cpsd-p11-accept"
        thread.start()
        if state.withLock({ $0.idleTimeout != nil }) { startSweeper() }
        log("PKCS#11 server listening on \(socketPath)")
    }

    /// Stops accepting, disconnects every client (their connections close), waits for all threads,
    /// and removes the socket file.
    package func stop() {
        // Shut the clients down under the lock: their threads close their fds under it too, so an fd
        // number is never reused between the snapshot and the shutdown.
        let (fd, ownsSocketFile): (Int32?, Bool) = state.withLock { state in
            state.stopping = true
            for client in state.live.values { UnixSocket.shutdownBoth(client) }
            return (state.listener, state.ownsSocketFile)
        }
        guard let fd else { return }
        sweeperWake.signal()
        acceptWake.signal()
        UnixSocket.shutdownBoth(fd)
        threads.wait()
        UnixSocket.close(fd)
        if ownsSocketFile { UnixSocket.remove(socketPath) }
        state.withLock { $0.listener = nil }
        log("PKCS#11 server stopped")
    }

    /// Clients being served now.
    package var connectionCount: Int { state.withLock { $0.live.count } }

    /// Accepts until `stop()`. A failed accept never ends the loop (AcceptBackoff): cpsd out of file
    /// descriptors must serve again as soon as one is free, not stop serving for the rest of the session.
    private func acceptLoop(_ listener: Int32) {
        var backoff = AcceptBackoff()
        while !state.withLock({ $0.stopping }) {
            switch UnixSocket.accept(listener) {
            case .failed(let code):
                guard !state.withLock({ $0.stopping }) else { return }  // stop() shut the listener down
                let step = backoff.failed()
                if step.startsEpisode {
                    log("PKCS#11 server: accept failed: \(UnixSocket.describe(errno: code)); retrying "
                        + "(waits from \(backoff.initial) doubling to \(backoff.maximum))")
                }
                _ = acceptWake.wait(timeout: .now() + .nanoseconds(Self.nanoseconds(step.delay)))
            case .client(let fd):
                let failures = backoff.succeeded()
                if failures > 0 { log("PKCS#11 server: accepting again after \(failures) failed accept(s)") }
                admit(fd)
            }
        }
    }

    /// Serves a freshly accepted client if it runs as this server's user.
    private func admit(_ fd: Int32) {
        guard let peer = UnixSocket.peer(fd), peer.uid == UnixSocket.currentUID() else {
            log("refused a PKCS#11 client of another user")
            UnixSocket.close(fd)
            return
        }
        let client: ClientID? = state.withLock { state in
            guard !state.stopping else { return nil }
            defer { state.nextClient += 1 }
            state.live[ClientID(state.nextClient)] = fd
            return ClientID(state.nextClient)
        }
        guard let client else {
            UnixSocket.close(fd)
            return
        }
        serve(fd: fd, client: client, peer: peer)
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
    }

    /// A client's kept PIN is zeroed after `timeout` without use (nil: kept until logout or disconnect).
    /// Takes effect at once; can be changed while serving (configuration reload).
    package func setPINIdleTimeout(_ timeout: Duration?) {
        let start: Bool = state.withLock { state in
            defer { state.idleTimeout = timeout }
            return state.idleTimeout == nil && timeout != nil && state.listener != nil
        }
        if start { startSweeper() } else { sweeperWake.signal() }
    }

    /// Wakes every `timeout / 4` (at most 30 s) to zero the PINs clients left unused.
    private func startSweeper() {
        threads.enter()
        let thread = Thread { [self] in
            while true {
                let (timeout, stop, clients) = state.withLock { ($0.idleTimeout, $0.stopping, Array($0.connections.values)) }
                guard let timeout, !stop else { break }
                for connection in clients { connection.expireIdleSecrets(idleFor: timeout) }
                let period = min(max(timeout / 4, .seconds(1)), .seconds(30))
                let milliseconds = Int(period.components.seconds * 1000 + period.components.attoseconds / 1_000_000_000_000_000)
                _ = sweeperWake.wait(timeout: .now() + .milliseconds(milliseconds))
            }
            threads.leave()
        }
        thread.name = "cpsd-p11-idle"
        thread.start()
    }

    private func serve(fd: Int32, client: ClientID, peer: PeerInfo) {
        let connection = PKCS11Connection(client: client, cards: cards, peer: peer)
        connection.audit = audit
        state.withLock { $0.connections[client] = connection }
        (cards as? any TokenServiceControl)?.setPeer(peer, for: client)
        threads.enter()
        let thread = Thread { [self] in
            UnixSocket.blockSIGPIPEOnThisThread()
            log("\(client) connected: \(peer)")
            let status = P11KitServe.serve(fd: fd, connection: connection)
            connection.close()
            state.withLock { state in
                state.live[client] = nil
                state.connections[client] = nil
                UnixSocket.close(fd)
            }
            log("\(client) ended (serve returned \(status))")
            threads.leave()
        }
        thread.name = "cpsd-p11-\(client.rawValue)"
        thread.start()
    }
}
