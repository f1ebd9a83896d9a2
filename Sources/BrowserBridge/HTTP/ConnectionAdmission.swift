import ErrorShape
import Logging
import NIOCore
import SmartCardCore
import Synchronization

/// Decides, for each accepted connection and before any TLS byte, whether the bridge keeps it:
/// the bridge must not be full (`ConnectionCaps.total`), the client socket must belong to cpsd's own
/// uid (docs/bridge-protocol.md, "Who may connect"), and that uid must be under its own cap. A kept
/// connection is counted until it closes. Refusals are logged at most once per 10 seconds, with how
/// many were not logged, so a flood cannot fill the journal.
final class ConnectionAdmission: Sendable {
    /// Why a connection was closed at once. The log line gives the reason alone.
    struct Refusal: CodedError {
        enum Code: String, ErrorCode {
            case full, peerFull, otherUser, unknownPeer, notIP
        }

        let code: Code
        let reason: String

        var description: String { reason }

        static func full(_ cap: Int) -> Self { Self(code: .full, reason: "the bridge already holds \(cap) connections") }
        static func peerFull(uid: UInt32, cap: Int) -> Self {
            Self(code: .peerFull, reason: "uid \(uid) already holds \(cap) connections")
        }
        static func otherUser(uid: UInt32) -> Self {
            Self(code: .otherUser, reason: "the client socket belongs to uid \(uid), not to cpsd's user")
        }
        static func unknownPeer(_ error: PeerLookupError) -> Self {
            Self(code: .unknownPeer, reason: "unknown client: \(error)")
        }
        static let notIP = Self(code: .notIP, reason: "not an IP connection")
    }

    private struct State {
        var caps: ConnectionCaps
        var lastLog: ContinuousClock.Instant?
        var unlogged = 0
    }

    private let state: Mutex<State>
    private let lookup: LocalPeerLookup
    private let ownUID: UInt32
    private let logger: Logger

    init(
        caps: ConnectionCaps = ConnectionCaps(), lookup: LocalPeerLookup = LocalPeerLookup(),
        ownUID: UInt32 = ProcessIdentity.userID, logger: Logger
    ) {
        state = Mutex(State(caps: caps))
        self.lookup = lookup
        self.ownUID = ownUID
        self.logger = logger
    }

    /// Admits `channel` (an accepted, not yet registered connection) or says why not. An admitted
    /// connection is released when it closes.
    func admit(_ channel: any Channel) throws(Refusal) {
        do throws(Refusal) {
            let uid = try identify(channel)
            let (admission, caps) = state.withLock { ($0.caps.admit(peer: uid), $0.caps) }
            switch admission {
            case .admitted: break
            case .totalFull: throw Refusal.full(caps.total)
            case .peerFull: throw Refusal.peerFull(uid: uid, cap: caps.perPeer)
            }
            channel.closeFuture.whenComplete { _ in self.state.withLock { $0.caps.release(peer: uid) } }
        } catch {
            note(error)
            throw error
        }
    }

    /// Connections held now (for tests and logs).
    var openConnections: Int { state.withLock { $0.caps.open } }

    private func identify(_ channel: any Channel) throws(Refusal) -> UInt32 {
        if state.withLock({ $0.caps.isFull }) { throw .full(state.withLock { $0.caps.total }) }
        guard let remote = channel.remoteAddress.flatMap(TCPEndpoint.init),
            let local = channel.localAddress.flatMap(TCPEndpoint.init)
        else { throw .notIP }
        let peer: LocalPeer
        do {
            peer = try lookup.peer(client: remote, server: local)
        } catch {
            throw .unknownPeer(error)
        }
        guard peer.uid == ownUID else { throw .otherUser(uid: peer.uid) }
        return peer.uid
    }

    private func note(_ refusal: Refusal) {
        let now = ContinuousClock.now
        let unlogged: Int? = state.withLock { state in
            if let last = state.lastLog, now - last < .seconds(10) {
                state.unlogged += 1
                return nil
            }
            defer { state.lastLog = now; state.unlogged = 0 }
            return state.unlogged
        }
        guard let unlogged else { return }
        logger.notice(
            "bridge refused a connection",
            metadata: ["reason": "\(refusal)", "refusals-not-logged": "\(unlogged)"])
    }
}
