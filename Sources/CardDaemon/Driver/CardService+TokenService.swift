package import PKCS11
package import SmartCardCore

/// The PKCS#11 layer's seam, for its connection threads: each call runs its operation on the reader's
/// thread and waits (`performBlocking`).
extension CardService: TokenService, TokenServiceControl {
    package func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError) {
        try performBlocking(loginOperation(client: client, slot: slot, generation: generation, userType: userType, pin: pin))
    }

    package func logout(client: ClientID, slot: SlotID) {
        _ = try? performBlocking(logoutOperation(client: client, slot: slot))
    }

    package func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try performBlocking(
            signatureOperation(client: client, slot: slot, generation: generation, request: request, pin: pin, origin: origin))
    }

    package func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try performBlocking(
            decryptionOperation(client: client, slot: slot, generation: generation, request: request, pin: pin, origin: origin))
    }

    package func writeData(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) {
        try performBlocking(
            dataWriteOperation(
                client: client, slot: slot, generation: generation, label: label, value: value, pin: pin, origin: origin))
    }

    package func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) {
        try performBlocking(pinChangeOperation(client: client, slot: slot, generation: generation, old: old, new: new))
    }

    package func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) {
        try performBlocking(pinUnblockOperation(client: client, slot: slot, generation: generation, puk: puk, newPIN: newPIN))
    }

    package func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError)
        -> [UInt8]
    {
        try performBlocking(randomOperation(client: client, slot: slot, generation: generation, length: length))
    }

    package func clientEnded(_ client: ClientID) {
        setPeer(nil, for: client)
        for slot in table.slots() { logout(client: client, slot: slot.id) }
    }

    package func refreshCounters(slot: SlotID) {
        _ = try? performBlocking(counterRefreshOperation(slot: slot))
    }

    package func forgetVerification(slot: SlotID) {
        _ = try? performBlocking(verificationResetOperation(slot: slot))
    }
}
