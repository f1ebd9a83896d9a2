package import SmartCardCore

/// The seam between the PKCS#11 semantics (this target, pure Swift) and whatever owns the cards (the
/// daemon's reader actors). Calls come synchronously from a client's connection thread, which may
/// block while the card works; implementations must never block the Swift concurrency pool.
///
/// Every call that touches a card names the client, so the service can keep the card's global
/// security state (a verified PIN) from leaking between clients: before an operation for a client,
/// the card's verified state is either re-established with that client's PIN or reset.
package protocol TokenService: Sendable {
    /// The slots now: one per reader, with the token when a CPx card is in it. Answered from memory.
    func slots() -> [SlotState]

    /// C_GetTokenInfo: read the card's PIN and PUK counters again (no try spent), so that `slots()` shows a
    /// try spent through another middleware. May answer from memory when read very recently.
    func refreshCounters(slot: SlotID)

    /// C_Login: VERIFY the PIN (user) or the PUK (SO) once. A wrong code throws `.pinIncorrect`
    /// with the tries left; it is never retried. On success `client` is logged in (the card itself is
    /// reset at once: it is verified again, from the kept PIN, only inside each later operation).
    func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError)

    /// C_Logout, or the client's last session closed: the card forgets the verification if it was this client's.
    func logout(client: ClientID, slot: SlotID)

    /// A signature with a private key, in one card transaction: VERIFY `pin` once (never retried), sign,
    /// and reset the card's security state so nobody finds it verified afterwards.
    ///
    /// With `.keptSinceLogin`, `pin` is the one `client` gave at C_Login: the service sends it only if that
    /// login still stands (no PIN change or unblock since, by anyone) and the card's PIN counter is the one
    /// it knows (nobody spent a try behind its back). Otherwise, and when the card refuses it, the login
    /// ends (`.notLoggedIn`, or `.pinIncorrect` once) and the kept PIN must never be sent again.
    func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8]

    /// C_Decrypt with a private key, under the same PIN rules as `sign`.
    func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8]

    /// C_SetPIN: CHANGE REFERENCE DATA with the old and new PIN.
    func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError)

    /// C_InitPIN after an SO login: VERIFY the PUK, then RESET RETRY COUNTER with the new PIN.
    func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError)

    /// C_SetAttributeValue(CKA_VALUE) of the modifiable data object `label` (CPS_DATA, cryptolib-pkcs11.md
    /// §6.3): the card rewrites the whole file (`value` zero-padded to its size) and the token's memory follows.
    /// The card wants the PIN for the write, so this runs under the same PIN rules as `sign`.
    func writeData(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError)

    /// C_GenerateRandom: GET CHALLENGE as many times as needed.
    func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8]

    /// Slots whose state changed (reader added/removed, card inserted/removed) after `cursor`, and the new
    /// cursor. Never blocks: C_WaitForSlotEvent is served with CKF_DONT_BLOCK only.
    func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64)

    /// The connection ended (client disconnected or C_Finalize): forget everything about `client`.
    func clientEnded(_ client: ClientID)
}
