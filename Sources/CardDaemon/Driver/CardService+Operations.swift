import Logging
package import PKCS11
package import SmartCardCore

/// The card operations, each described once as what the reader does and what is logged after. A code
/// is copied out of the caller's borrowed `SecretBytes` into a `SecretHolder` that the operation owns and
/// that zeroes it when the operation is released. Length and digits are checked before any card sees a
/// code, so a typo never costs a try.
extension CardService {
    /// C_Login. On a PIN-pad reader an empty user code means "typed on the reader" (cryptolib-pkcs11.md §8.4).
    package func loginOperation(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError) -> CardOperation<Void> {
        let onPINPad = pin.count == 0 && userType == .user && hasPINPad(slot)
        if !onPINPad { try Self.checkFormat(pin, length: userType == .user ? Self.pinLength : Self.pukLength) }
        let pin = SecretHolder(copying: pin)
        return CardOperation(slot: slot) { (reader) throws(TokenError) in
            try reader.login(client: client, generation: generation, userType: userType, pin: pin)
        } finished: { [logger] result, _ in
            guard case .success = result else { return }
            logger.info("login", metadata: ["client": "\(client)", "slot": "\(slot)", "user_type": "\(userType)"])
        }
    }

    package func logoutOperation(client: ClientID, slot: SlotID) -> CardOperation<Void> {
        CardOperation(slot: slot) { reader in reader.logout(client: client) }
    }

    package func signatureOperation(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) -> CardOperation<[UInt8]> {
        keyOperation(client: client, slot: slot, audit: request.audit, pin: SecretHolder(copyingOrEmpty: pin)) {
            (reader, pin) throws(TokenError) in
            try reader.sign(client: client, generation: generation, request: request, pin: pin, origin: origin)
        }
    }

    package func decryptionOperation(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) -> CardOperation<[UInt8]> {
        keyOperation(client: client, slot: slot, audit: request.audit, pin: SecretHolder(copyingOrEmpty: pin)) {
            (reader, pin) throws(TokenError) in
            try reader.decrypt(client: client, generation: generation, request: request, pin: pin, origin: origin)
        }
    }

    /// A private-key operation: the code checked (before any card sees it), the reader's work, one audit line.
    private func keyOperation(
        client: ClientID, slot: SlotID, audit: KeyOperationAudit, pin: SecretHolder,
        _ work: @escaping @Sendable (isolated ReaderActor, SecretHolder) throws(TokenError) -> [UInt8]
    ) -> CardOperation<[UInt8]> {
        CardOperation(slot: slot) { (reader) throws(TokenError) in
            if pin.secret.count > 0 { try Self.checkFormat(pin.secret, length: Self.pinLength) }
            return try work(reader, pin)
        } finished: { [self] result, duration in
            self.audit(client: client, slot: slot, operation: audit, result: result, duration: duration)
        }
    }

    package func dataWriteOperation(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> CardOperation<Void> {
        if pin.count > 0 { try Self.checkFormat(pin, length: Self.pinLength) }
        let pin = SecretHolder(copyingOrEmpty: pin)
        return CardOperation(slot: slot) { (reader) throws(TokenError) in
            try reader.writeData(client: client, generation: generation, label: label, value: value, pin: pin, origin: origin)
        } finished: { [logger] result, _ in
            guard case .success = result else { return }
            // Which object and how long, never the bytes.
            logger.notice(
                "data object written",
                metadata: ["client": "\(client)", "slot": "\(slot)", "label": "\(label)", "length": "\(value.count)"])
        }
    }

    package func pinChangeOperation(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError) -> CardOperation<Void> {
        try Self.checkFormat(old, length: Self.pinLength)
        try Self.checkFormat(new, length: Self.pinLength)
        let (old, new) = (SecretHolder(copying: old), SecretHolder(copying: new))
        return CardOperation(slot: slot) { (reader) throws(TokenError) in
            try reader.changePIN(client: client, generation: generation, old: old, new: new)
        } finished: { [logger] result, _ in
            guard case .success = result else { return }
            logger.notice("PIN changed", metadata: ["client": "\(client)", "slot": "\(slot)"])
        }
    }

    package func pinUnblockOperation(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError) -> CardOperation<Void> {
        try Self.checkFormat(puk, length: Self.pukLength)
        try Self.checkFormat(newPIN, length: Self.pinLength)
        let (puk, newPIN) = (SecretHolder(copying: puk), SecretHolder(copying: newPIN))
        return CardOperation(slot: slot) { (reader) throws(TokenError) in
            try reader.unblockPIN(client: client, generation: generation, puk: puk, newPIN: newPIN)
        } finished: { [logger] result, _ in
            guard case .success = result else { return }
            logger.notice("PIN unblocked", metadata: ["client": "\(client)", "slot": "\(slot)"])
        }
    }

    package func randomOperation(client: ClientID, slot: SlotID, generation: UInt64, length: Int) -> CardOperation<[UInt8]> {
        CardOperation(slot: slot) { (reader) throws(TokenError) in
            length > 0 ? try reader.generateRandom(client: client, generation: generation, length: length) : []
        }
    }

    /// C_GetTokenInfo: the PIN counters read again (at most once a second).
    package func counterRefreshOperation(slot: SlotID) -> CardOperation<Void> {
        CardOperation(slot: slot) { reader in reader.refreshCounters() }
    }

    /// The PKCS#11 idle timeout, or SIGHUP: the card holds no verification afterwards.
    package func verificationResetOperation(slot: SlotID) -> CardOperation<Void> {
        CardOperation(slot: slot) { reader in reader.forgetVerification() }
    }

    // MARK: - Helpers

    static let pinLength = 4
    static let pukLength = 8

    private func hasPINPad(_ slot: SlotID) -> Bool {
        table.slots().first { $0.id == slot }?.token?.protectedAuthenticationPath == true
    }

    private static func checkFormat(_ secret: borrowing SecretBytes, length: Int) throws(TokenError) {
        guard secret.count == length else {
            throw TokenError(.pinLengthRange, "the code must be \(length) digits, got \(secret.count)")
        }
        guard secret.isAllDigits else { throw TokenError(.pinInvalid, "the code must be digits only") }
    }
}
