import CardDaemon
import PKCS11
import SmartCardCore

/// Every call goes to the daemon's `CardService` unchanged. Card operations are made from a plain
/// thread (`outsideAnyTask`), as the daemon's connection threads make them: its blocking bridge refuses
/// callers inside a task, and a test body under `onThread` is one.
extension DaemonToken: TokenService, TokenServiceControl {
    func slots() -> [SlotState] { cards.slots() }

    func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64) { cards.slotEvents(after: cursor) }

    func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError) {
        let (cards, pin) = (cards, SecretCopy(pin))
        try outsideAnyTask { () throws(TokenError) in
            try cards.login(client: client, slot: slot, generation: generation, userType: userType, pin: pin.secret)
        }
    }

    func logout(client: ClientID, slot: SlotID) {
        let cards = cards
        outsideAnyTask { cards.logout(client: client, slot: slot) }
    }

    func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        let (cards, pin) = (cards, SecretCopy(pin))
        return try outsideAnyTask { () throws(TokenError) in
            try cards.sign(
                client: client, slot: slot, generation: generation, request: request, pin: pin.secret, origin: origin)
        }
    }

    func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        let (cards, pin) = (cards, SecretCopy(pin))
        return try outsideAnyTask { () throws(TokenError) in
            try cards.decrypt(
                client: client, slot: slot, generation: generation, request: request, pin: pin.secret, origin: origin)
        }
    }

    func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) {
        let (cards, old, new) = (cards, SecretCopy(old), SecretCopy(new))
        try outsideAnyTask { () throws(TokenError) in
            try cards.changePIN(client: client, slot: slot, generation: generation, old: old.secret, new: new.secret)
        }
    }

    func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) {
        let (cards, puk, newPIN) = (cards, SecretCopy(puk), SecretCopy(newPIN))
        try outsideAnyTask { () throws(TokenError) in
            try cards.unblockPIN(
                client: client, slot: slot, generation: generation, puk: puk.secret, newPIN: newPIN.secret)
        }
    }

    func writeData(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) {
        let (cards, pin) = (cards, SecretCopy(pin))
        try outsideAnyTask { () throws(TokenError) in
            try cards.writeData(
                client: client, slot: slot, generation: generation, label: label, value: value, pin: pin.secret,
                origin: origin)
        }
    }

    func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError)
        -> [UInt8]
    {
        let cards = cards
        return try outsideAnyTask { () throws(TokenError) in
            try cards.generateRandom(client: client, slot: slot, generation: generation, length: length)
        }
    }

    func clientEnded(_ client: ClientID) {
        recordEnded(client)
        let cards = cards
        outsideAnyTask { cards.clientEnded(client) }
    }

    func setPeer(_ peer: PeerInfo?, for client: ClientID) { cards.setPeer(peer, for: client) }

    func refreshCounters(slot: SlotID) {
        let cards = cards
        outsideAnyTask { cards.refreshCounters(slot: slot) }
    }

    func forgetVerification(slot: SlotID) {
        let cards = cards
        outsideAnyTask { cards.forgetVerification(slot: slot) }
    }
}
