package import PKCS11

/// Who is at the other end of a client's connection, as the socket layer learned it (SO_PEERCRED and
/// /proc/<pid>/exe). Only used in audit lines.
package struct PeerInfo: Sendable, Hashable {
    package var pid: Int32
    package var uid: UInt32
    package var executable: String?

    package init(pid: Int32, uid: UInt32, executable: String? = nil) {
        self.pid = pid
        self.uid = uid
        self.executable = executable
    }
}

/// What the daemon offers beyond `TokenDriver`: audit attribution and the idle timeout's reset.
package protocol TokenDriverControl: Sendable {
    /// Attributes `client`'s later signatures to `peer` in the audit log (nil forgets it).
    func setPeer(_ peer: PeerInfo?, for client: ClientID)
    /// The card in `slot` forgets any verified PIN, whoever it was for (idle timeout, SIGHUP).
    func forgetVerification(slot: SlotID)
}
