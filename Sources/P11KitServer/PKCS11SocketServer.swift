import Foundation
package import PKCS11

/// Serves PKCS#11 on a Unix socket through libp11-kit's RPC server, so that the stock
/// `p11-kit-client.so` and `p11-kit-proxy.so` reach the cards (DESIGN.md decision 2).
///
/// One dedicated thread accepts; each accepted client gets its own thread running p11-kit's blocking
/// serve loop, and its own `PKCS11Connection` (p11-kit gives no per-client isolation). Only clients of
/// the server's own uid are served (SO_PEERCRED). When a client goes away, however it goes, its
/// connection is closed: PINs zeroed, sessions and login gone, the driver told.
package final class PKCS11SocketServer: @unchecked Sendable {
    package typealias Logger = @Sendable (String) -> Void

    package let socketPath: String
    private let driver: any TokenDriver
    private let log: Logger
    private let audit: (@Sendable (SignAudit) -> Void)?
    private let lock = NSLock()
    private var listener: Int32?
    private var stopping = false
    private var ownsSocketFile = true
    private var live: [ClientID: Int32] = [:]
    private var connections: [ClientID: PKCS11Connection] = [:]
    private var idleTimeout: Duration?
    private let sweeperWake = DispatchSemaphore(value: 0)
    /// Cuts an accept back-off short when `stop()` is called.
    private let acceptWake = DispatchSemaphore(value: 0)
    private var nextClient: UInt64 = 1
    private let threads = DispatchGroup()

    /// `audit` is called once per signature the card was asked for, from the client's thread.
    package init(
        socketPath: String, driver: any TokenDriver, audit: (@Sendable (SignAudit) -> Void)? = nil,
        logger: @escaping Logger = { _ in }
    ) {
        self.socketPath = socketPath
        self.driver = driver
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
        self.ownsSocketFile = ownsSocketFile
        let started: Bool = lock.withLock {
            guard listener == nil, !stopping else { return false }
            listener = fd
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
        if lock.withLock({ idleTimeout != nil }) { startSweeper() }
        log("PKCS#11 server listening on \(socketPath)")
    }

    /// Stops accepting, disconnects every client (their connections close), waits for all threads,
    /// and removes the socket file.
    package func stop() {
        // Shut the clients down under the lock: their threads close their fds under it too, so an fd
        // number is never reused between the snapshot and the shutdown.
        let fd: Int32? = lock.withLock {
            stopping = true
            for client in live.values { UnixSocket.shutdownBoth(client) }
            return listener
        }
        guard let fd else { return }
        sweeperWake.signal()
        acceptWake.signal()
        UnixSocket.shutdownBoth(fd)
        threads.wait()
        UnixSocket.close(fd)
        if ownsSocketFile { UnixSocket.remove(socketPath) }
        lock.withLock { listener = nil }
        log("PKCS#11 server stopped")
    }

    /// Clients being served now.
    package var connectionCount: Int { lock.withLock { live.count } }

    /// Accepts until `stop()`. A failed accept never ends the loop (AcceptBackoff): cpsd out of file
    /// descriptors must serve again as soon as one is free, not stop serving for the rest of the session.
    private func acceptLoop(_ listener: Int32) {
        var backoff = AcceptBackoff()
        while !lock.withLock({ stopping }) {
            switch UnixSocket.accept(listener) {
            case .failed(let code):
                guard !lock.withLock({ stopping }) else { return }  // stop() shut the listener down
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
        let client: ClientID? = lock.withLock {
            guard !stopping else { return nil }
            defer { nextClient += 1 }
            live[ClientID(nextClient)] = fd
            return ClientID(nextClient)
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
        let start: Bool = lock.withLock {
            defer { idleTimeout = timeout }
            return idleTimeout == nil && timeout != nil && listener != nil
        }
        if start { startSweeper() } else { sweeperWake.signal() }
    }

    /// Wakes every `timeout / 4` (at most 30 s) to zero the PINs clients left unused.
    private func startSweeper() {
        threads.enter()
        let thread = Thread { [self] in
            while true {
                let (timeout, stop, clients) = lock.withLock { (idleTimeout, stopping, Array(connections.values)) }
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
        let connection = PKCS11Connection(client: client, driver: driver, peer: peer)
        connection.audit = audit
        lock.withLock { connections[client] = connection }
        (driver as? any TokenDriverControl)?.setPeer(peer, for: client)
        threads.enter()
        let thread = Thread { [self] in
            UnixSocket.blockSIGPIPEOnThisThread()
            log("\(client) connected: \(peer)")
            let status = P11KitServe.serve(fd: fd, connection: connection)
            connection.close()
            lock.withLock {
                live[client] = nil
                connections[client] = nil
                UnixSocket.close(fd)
            }
            log("\(client) ended (serve returned \(status))")
            threads.leave()
        }
        thread.name = "cpsd-p11-\(client.rawValue)"
        thread.start()
    }
}
