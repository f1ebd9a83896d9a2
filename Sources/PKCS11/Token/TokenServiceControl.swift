/// What a daemon offers beyond `TokenService`: audit attribution and dropping verified PIN states.
package protocol TokenServiceControl: Sendable {
    /// Attributes `client`'s later signatures to `peer` in the audit log (nil forgets it).
    func setPeer(_ peer: PeerInfo?, for client: ClientID)
    /// The card in `slot` forgets any verified PIN, whoever it was for (idle timeout, SIGHUP).
    func forgetVerification(slot: SlotID)
}
