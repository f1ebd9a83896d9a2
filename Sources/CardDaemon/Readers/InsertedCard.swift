import IASECC
import PKCS11
import PKCS11Constants
import SmartCardCore

/// A client's login on a card: its user type, and the credential epoch it was made in.
struct CardLogin: Hashable, Sendable {
    var userType: UserType
    var credentialEpoch: UInt64
}

/// A CPS3 or CPS4 card that was read at insertion, with what the daemon knows of its security state.
///
/// The invariants that keep PINs from leaking between clients and from blocking the card (DESIGN
/// decision 3):
/// - the card is not left verified between operations: every operation that verifies a code resets the
///   card when it ends; `mayBeVerified` records a reset that failed, and the next operation resets first.
///   The one exception is `hold`: the card verified for one client inside cpsd's still-open exclusive
///   transaction, for that client's next key operation only, ended with a reset before anything else;
/// - a kept PIN is sent only for a client whose login was made in the current `credentialEpoch` (no PIN
///   change or unblock since, by any client) and only if the card's counter is the one recorded here.
struct InsertedCard: Sendable {
    let generation: UInt64
    let connection: any CardConnection
    /// The card generation's driver: every APDU the daemon sends goes through it.
    let driver: any CardDriver
    var contents: CardContents
    /// True from the moment a VERIFY is sent until a reset succeeded: the card may be verified for someone.
    var mayBeVerified = false
    /// The card verified for one client's next key operation, in a transaction still open (`VerifiedHold`).
    var hold: VerifiedHold?
    /// The clients logged in on this card (C_Login done, no C_Logout yet).
    var loggedIn: [ClientID: CardLogin] = [:]
    /// Bumped by every successful PIN change or unblock, and whenever the counters moved outside cpsd:
    /// a login made in an older epoch holds a PIN the card may no longer take.
    var credentialEpoch: UInt64 = 0
    /// The private data objects were read after a login (`InsertedCard+DataObjects.swift`): never again
    /// for this card, even for the files the card turned out not to have.
    var protectedDataRead = false
    /// The token as read at insertion. What changes afterwards (counters, data objects) is filled in by
    /// `token`; the rest (labels, keys and their sizes, taken from the certificates) is built once, not
    /// after every operation.
    private let tokenAtInsertion: TokenState

    init(generation: UInt64, connection: any CardConnection, driver: any CardDriver, contents: CardContents) {
        self.generation = generation
        self.connection = connection
        self.driver = driver
        self.contents = contents
        var token = TokenState(contents, driver: driver, generation: generation)
        token.protectedAuthenticationPath = connection.hasPINPad
        tokenAtInsertion = token
    }

    /// Warm-resets the card (SCardReconnect with SCARD_RESET_CARD): it forgets every verified code.
    mutating func resetSecurity() throws(CardError) {
        try connection.reconnect(.reset)
        mayBeVerified = false
    }

    /// An operation's verifying transaction ended, with a warm reset or leaving the card as it was found
    /// (verified by another middleware): either way cpsd left no verification of its own behind.
    mutating func verifyingTransactionEnded() {
        mayBeVerified = false
    }

    /// Before an operation: a hold is ended, and a card a failed reset may have left verified is reset now. A
    /// failure is the transport's, thrown as the operation's error type.
    mutating func ensureNotVerified() throws(IASECCError) {
        do throws(CardError) {
            try endHold()
            guard mayBeVerified else { return }
            try resetSecurity()
        } catch {
            throw IASECCError(error)
        }
    }

    /// Ends the hold, if any: the held transaction ends with a warm reset. If that fails the card may still
    /// be verified (`mayBeVerified` stays set) and the next operation resets it first.
    mutating func endHold() throws(CardError) {
        guard hold != nil else { return }
        hold = nil
        try connection.endHeldTransaction()
        mayBeVerified = false
    }

    /// After an operation that verified a code. A failure leaves `mayBeVerified` set, so the next
    /// operation resets first (and a pulled card is gone anyway). A hold the operation started stays.
    mutating func endVerifiedOperation() {
        if mayBeVerified && hold == nil { try? resetSecurity() }
    }

    /// After a broken exchange: every login ends, so no kept PIN goes to a card that may be another one,
    /// and the next operation resets the card first (it may have been left verified).
    mutating func transportFailed() {
        startCredentialEpoch(keeping: nil)
        try? endHold()
        mayBeVerified = true
    }

    /// Whether `client`'s kept PIN may be sent: it logged in as the user in the current epoch.
    func holdsCurrentLogin(_ client: ClientID) -> Bool {
        loggedIn[client] == CardLogin(userType: .user, credentialEpoch: credentialEpoch)
    }

    /// A new credential epoch: every login but `keeping`'s ends (its client changed the code itself).
    mutating func startCredentialEpoch(keeping client: ClientID?) {
        credentialEpoch += 1
        let kept = client.flatMap { loggedIn[$0] }
        loggedIn.removeAll()
        if let client, var kept {
            kept.credentialEpoch = credentialEpoch
            loggedIn[client] = kept
        }
    }

    /// Before a kept PIN is verified again: the card's PIN counter must be the one cpsd knows. If it moved,
    /// someone used the card outside cpsd (another middleware, another machine): every login ends and no
    /// kept PIN is sent, so a changed PIN never costs a try.
    /// `state` is the card's answer to VERIFY without data: nil when it holds the PIN verified (another
    /// middleware's login), which also means the counter is full.
    /// Thrown as the driver chain's codes, which `TokenErrorMapping` turns into the same CKRs as the card's own
    /// answers: `.pinRequired` (CKR_USER_NOT_LOGGED_IN, log in again) and `.blocked` (CKR_PIN_LOCKED).
    mutating func checkCounterUnchanged(_ state: Int?) throws(IASECCError) {
        let known = contents.pinStatus.pin
        let onCard = CredentialCounters(maxTries: known.maxTries, triesLeft: state ?? known.maxTries)
        // Only the tries left: the maximum and the unblock counters were read at insertion.
        contents.pinStatus.pin.triesLeft = onCard.triesLeft
        guard onCard.triesLeft == known.triesLeft else {
            startCredentialEpoch(keeping: nil)
            throw IASECCError(
                .pinRequired,
                "the card's PIN counter changed outside cpsd (\(known.triesLeft) → \(onCard.triesLeft) tries left): "
                    + "log in again")
        }
        if onCard.isBlocked { throw IASECCError(.blocked, "the card's PIN is blocked", triesLeft: 0) }
    }

    /// The counters as the card gives them now. A PIN counter that moved is a try spent (or restored)
    /// outside cpsd: as in `checkCounterUnchanged`, every login ends, so no kept PIN is sent to a card
    /// someone else is working on.
    mutating func countersRead(_ status: PINStatus) {
        if status.pin.triesLeft != contents.pinStatus.pin.triesLeft { startCredentialEpoch(keeping: nil) }
        contents.pinStatus = status
    }

    /// VERIFY of the PIN or PUK, keeping the counters in memory up to date with the card's answer.
    /// A refusal is reported, never retried.
    mutating func verify(
        _ session: inout CardSession, _ userType: UserType, _ secret: borrowing SecretBytes
    ) throws(IASECCError) {
        let counter: WritableKeyPath<PINStatus, CredentialCounters> = userType == .user ? \.pin : \.puk
        mayBeVerified = true
        do {
            switch userType {
            // No code given, on a PIN-pad reader: the person types it on the reader's keypad.
            case .user where secret.count == 0 && connection.hasPINPad: try driver.verifyPINOnPad(&session)
            case .user: try driver.verifyPIN(&session, secret)
            case .securityOfficer: try driver.verifyPUK(&session, secret)
            }
        } catch {
            note(error, counter)
            throw error
        }
        contents.pinStatus[keyPath: counter].triesLeft = contents.pinStatus[keyPath: counter].maxTries
    }

    /// Updates a counter from a refusal: 63Cx gives the tries left, 6983 means blocked.
    mutating func note(_ error: IASECCError, _ counter: WritableKeyPath<PINStatus, CredentialCounters>) {
        if error.code == .wrongPIN, let tries = error.triesLeft {
            contents.pinStatus[keyPath: counter].triesLeft = tries
        } else if error.code == .blocked {
            contents.pinStatus[keyPath: counter].triesLeft = 0
        }
    }

    /// The token PKCS#11 shows for this card.
    var token: TokenState {
        var token = tokenAtInsertion
        token.pin = TokenCounters(triesLeft: contents.pinStatus.pin.triesLeft, maxTries: contents.pinStatus.pin.maxTries)
        token.puk = TokenCounters(triesLeft: contents.pinStatus.puk.triesLeft, maxTries: contents.pinStatus.puk.maxTries)
        token.dataObjects = TokenState.dataObjects(contents)
        return token
    }
}

extension TokenState {
    /// The PKCS#11 view of a card read at insertion (cps3-card.md §12.2).
    init(_ contents: CardContents, driver: any CardDriver, generation: UInt64) {
        let serial = contents.serialNumber
        var certificates: [TokenCertificate] = []
        var keys: [TokenPrivateKey] = []
        for key in contents.privateKeys {
            guard let role = driver.role(of: key) else { continue }
            let certificate = contents.certificate(for: key)
            let bits = Self.modulusBits(declared: key.modulusLength, certificate: certificate?.der)
            keys.append(
                TokenPrivateKey(
                    label: key.label, id: key.id, role: role, modulusBits: bits, capabilities: driver.capabilities(of: role)))
            if let certificate {
                certificates.append(
                    TokenCertificate(label: certificate.object.label, id: key.id, der: certificate.der, role: role))
            }
        }
        self.init(
            generation: generation,
            label: contents.tokenInfo.label ?? "\(driver.kind == .cps4 ? "CPS4v1" : "CPS3v3")-\(serial)",
            manufacturer: contents.tokenInfo.manufacturer ?? "ASIP SANTE",
            model: driver.model,
            serialNumber: serial,
            pin: TokenCounters(triesLeft: contents.pinStatus.pin.triesLeft, maxTries: contents.pinStatus.pin.maxTries),
            puk: TokenCounters(triesLeft: contents.pinStatus.puk.triesLeft, maxTries: contents.pinStatus.puk.maxTries),
            minPINLength: driver.pinLength,
            // Cryptolib's maximum when the AODF gives none (§4); the card takes 4 digits, which cpsd checks
            // before any VERIFY (a longer code never reaches the card).
            maxPINLength: 8,
            certificates: certificates,
            privateKeys: keys,
            dataObjects: Self.dataObjects(contents),
            // Cryptolib's CPS3 driver declares RSA 512–2048 and shows it in C_GetMechanismInfo (§7.1).
            mechanismMinimumKeyBits: driver.kind == .cps4 ? nil : 512)
    }

    static func dataObjects(_ contents: CardContents) -> [TokenDataObject] {
        contents.dataObjects.enumerated().compactMap { TokenDataObject($1, index: $0) }
    }

    /// The key size, from the certificate's modulus: that is the length of every signature the key makes.
    /// The PrKDF's declared size is only a fallback for a key without a certificate, and only when it is
    /// a plausible RSA size (a card could declare anything, up to 2^63 bits).
    static func modulusBits(declared: Int?, certificate: [UInt8]?) -> Int {
        if let certificate, let bits = CertificateFields.modulusBits(ofCertificate: certificate) { return bits }
        if let declared, (1024...4096).contains(declared) { return declared }
        return 2048
    }
}
