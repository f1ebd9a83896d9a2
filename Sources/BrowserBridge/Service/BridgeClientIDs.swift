import PKCS11
import Synchronization

/// The bridge's PKCS#11-level identities: one per operation, far from the socket server's numbers,
/// so the card service's PIN isolation treats each bridge operation as a client of its own.
final class BridgeClientIDs: Sendable {
    private let next = Mutex<UInt64>(1 << 62)

    func make() -> ClientID {
        next.withLock { next in
            next += 1
            return ClientID(next)
        }
    }
}
