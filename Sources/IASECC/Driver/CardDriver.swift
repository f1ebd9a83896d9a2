package import SmartCardCore

/// One card generation's way of doing everything a middleware asks of a CPx card. The decisions "which
/// key, which command, who hashes, how to recover" live behind this seam, once per generation: the daemon,
/// the PKCS#11 token and cpsctl call these functions and never branch on the generation.
///
/// Every function runs inside one PC/SC transaction (the caller's `CardSession`) and sends the fewest
/// APDUs it can. None of them retries a command that carried a PIN or PUK: a refusal is reported with
/// the tries left, and the caller decides. A command that did not carry a secret may be replayed once
/// after the driver re-established the application the card lost (cps4-card.md §3, §8).
package protocol CardDriver: Sendable {
    /// Which generation this driver speaks to.
    var kind: CardKind { get }
    /// The PKCS#11 token model (16 bytes at most).
    var model: String { get }
    /// The PIN and PUK lengths (digits), checked before the card sees a byte.
    var pinLength: Int { get }
    var pukLength: Int { get }

    /// Reads everything the middleware needs at insertion: serial, counters, PKCS#15 objects and both
    /// certificates. No PIN is involved and no try is spent.
    func readCard(_ session: inout CardSession) throws(IASECCError) -> CardContents
    /// The driver for this very card, with what `readCard` learnt (PIN references, for CPS4), so later
    /// operations need not read it again.
    func bound(to contents: CardContents) -> any CardDriver
    /// The PIN and PUK counters, without spending a try.
    func readPINStatus(_ session: inout CardSession) throws(IASECCError) -> PINStatus
    /// The PIN's counters alone, without spending a try: what the daemon compares with what it knows
    /// before it verifies a kept PIN again.
    func readPINCounters(_ session: inout CardSession) throws(IASECCError) -> CredentialCounters
    /// VERIFY without data on the PIN (no try spent): nil when the card holds the PIN verified now (by
    /// anyone: another middleware's login stays on the card), else the tries left.
    func pinVerificationState(_ session: inout CardSession) throws(IASECCError) -> Int?

    /// VERIFY the PIN once. Throws `.wrongPIN` with the tries left, or `.blocked`.
    func verifyPIN(_ session: inout CardSession, _ pin: borrowing SecretBytes) throws(IASECCError)
    /// VERIFY the PIN once, its digits typed on the reader's keypad (a PIN-pad reader).
    func verifyPINOnPad(_ session: inout CardSession) throws(IASECCError)
    /// VERIFY the PUK once (an SO login).
    func verifyPUK(_ session: inout CardSession, _ puk: borrowing SecretBytes) throws(IASECCError)
    /// Changes the PIN; a wrong old PIN costs one try.
    func changePIN(
        _ session: inout CardSession, old: borrowing SecretBytes, new: borrowing SecretBytes) throws(IASECCError)
    /// VERIFY the PUK, then set a new PIN and reset its counter.
    func unblockPIN(
        _ session: inout CardSession, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes) throws(IASECCError)

    /// What a key of this card does (sign and decrypt mechanisms), or nil for a key the driver does not know.
    func role(of key: PrivateKeyObject) -> KeyRole?
    func capabilities(of role: KeyRole) -> KeyCapabilities
    /// Refuses, before any APDU (and so before any VERIFY), a request this card cannot make: a mechanism
    /// the key does not offer, or an input of a length the mechanism cannot take.
    func validate(_ request: SignatureRequest) throws(IASECCError)
    func validate(_ request: DecryptionRequest) throws(IASECCError)
    /// One signature. The PIN must have been verified in the same transaction.
    func sign(_ session: inout CardSession, _ request: SignatureRequest) throws(IASECCError) -> [UInt8]
    /// One decryption with the authentication key. The PIN must have been verified in the same transaction.
    func decrypt(_ session: inout CardSession, _ request: DecryptionRequest) throws(IASECCError) -> [UInt8]
    /// The values of the private data objects among `objects` (cryptolib-pkcs11.md §6.1). The PIN must have
    /// been verified in the same transaction: the daemon calls this right after a login's VERIFY, so reading
    /// them never costs a VERIFY of its own. Objects whose file the card lacks are left out.
    func readProtectedDataObjects(_ session: inout CardSession, _ objects: [CardDataObject]) throws(IASECCError)
        -> [CardDataObject]
    /// Rewrites a modifiable data object's whole file with `value`, zero-padded to the file's size (UPDATE
    /// BINARY, at most 255 bytes a command, §6.3); a longer value is refused before any APDU. The PIN must have
    /// been verified in the same transaction (the card refuses the write otherwise). Returns the file's bytes.
    func writeDataObject(_ session: inout CardSession, _ object: CardDataObject, value: [UInt8]) throws(IASECCError)
        -> [UInt8]
    /// Random bytes from the card's generator.
    func getChallenge(_ session: inout CardSession, length: Int) throws(IASECCError) -> [UInt8]
}

extension CardDriver {
    package func bound(to contents: CardContents) -> any CardDriver { self }
}

/// The drivers cpsd has, chosen by ATR.
package enum CardDrivers {
    /// The driver for a card that answered `atr`, or nil for a card cpsd does not drive.
    package static func driver(for atr: [UInt8]) -> (any CardDriver)? {
        switch CardKind(atr: atr) {
        case .cps3Contact: CPS3Driver()
        case .cps4: CPS4Driver()
        case .cps3Contactless, .unknown: nil
        }
    }

    /// The driver for the card of `session`, or `.notCPS3`-coded error naming the card.
    package static func driver(for session: borrowing CardSession) throws(IASECCError) -> any CardDriver {
        guard let driver = driver(for: session.atr.bytes) else {
            let kind = CardKind(atr: session.atr.bytes)
            throw IASECCError(.notCPS3, "\(kind.displayName) (ATR \(session.atr)) is not a card cpsd drives")
        }
        return driver
    }
}

extension SignatureRequest {
    /// Refused unless this key offers the mechanism.
    package func check(against capabilities: KeyCapabilities) throws(IASECCError) {
        guard capabilities.signatures.contains(mechanism) else {
            throw IASECCError(.mechanismNotSupported, "\(role) key: \(mechanism) is not supported by this card")
        }
        if mechanism == .rsaPKCSPSS {
            guard let pssHash, data.count == pssHash.digestLength else {
                throw IASECCError(.inputTooLong, "CKM_RSA_PKCS_PSS signs a digest of the parameters' hash")
            }
        }
    }
}

extension DecryptionRequest {
    package func check(against capabilities: KeyCapabilities) throws(IASECCError) {
        guard capabilities.decryptions.contains(mechanism) else {
            throw IASECCError(.mechanismNotSupported, "\(role) key: \(mechanism) decryption is not supported by this card")
        }
        guard cryptogram.count == 256 else {
            throw IASECCError(.inputTooLong, "an RSA-2048 cryptogram is 256 bytes, not \(cryptogram.count)")
        }
    }
}
