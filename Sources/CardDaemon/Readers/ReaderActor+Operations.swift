import IASECC
import PKCS11
import PKCS11Constants
import SmartCardCore

/// The card operations, each one PC/SC transaction (`CPS3Driver.perform`), with the PIN rules of DESIGN
/// decision 3: the card is verified only inside an operation that needs it, and that operation's transaction
/// ends with a warm reset (no other process can come in between) — unless the card was found verified by another
/// middleware's login, then it is left as found (`withVerifyingTransaction`: Cryptolib breaks on a reset), or the
/// transaction is kept open for the same client's next key operation (`VerifiedHold`); a kept PIN is sent only
/// while its login provably holds, and never again once the card refused it.
extension ReaderActor {
    /// C_Login: VERIFY once; on success `client` is logged in. The card is reset right after (PIN or PUK),
    /// or, for the user's PIN, held verified for this client's next key operation a moment (`VerifiedHold`):
    /// later operations verify the kept code again, each inside its own transaction.
    func login(client: ClientID, generation: UInt64, userType: UserType, pin: SecretHolder) throws(TokenError) {
        try operate(generation, "login") { (card) throws(IASECCError) in
            try card.ensureNotVerified()
            defer { card.endVerifiedOperation() }
            card.loggedIn[client] = nil
            // The private data objects are read now, verified by this very VERIFY and before the reset (or the
            // hold's end): no other operation ever verifies the PIN for them (cryptolib-pkcs11.md §6.1).
            let outcome = try CPS3Driver.performVerifying(
                on: card.connection, driver: card.driver,
                keepOpen: userType == .user && mayHold(pin, origin: .keptSinceLogin)
            ) { (session, _) throws(IASECCError) in
                try card.verify(&session, userType, pin.secret)
                return userType == .user ? try card.readProtectedDataObjects(&session) : nil
            }
            card.loggedIn[client] = CardLogin(userType: userType, credentialEpoch: card.credentialEpoch)
            // The login's first signature usually follows at once: it finds the card still verified.
            keepVerified(outcome.held, for: client, &card)
            if let protectedObjects = outcome.value { card.remember(protectedObjects) }
        }
    }

    /// C_Logout: the login ends. The card holds no verification between operations, so nothing is sent
    /// unless a hold (`VerifiedHold`) or a failed reset left it verified: then it is reset.
    func logout(client: ClientID) {
        guard case .present = state else { return }
        _ = try? operate(currentGeneration, "logout") { (card) throws(IASECCError) in
            card.loggedIn[client] = nil
            try card.ensureNotVerified()
        }
    }

    /// C_GetTokenInfo: the PIN and PUK counters read again from the card (no try spent: GET DATA on a
    /// CPS3, VERIFY without data on a CPS4), at most once a second, so that the token's flags show a try
    /// spent, or a counter restored, through another middleware on the same card — as Cryptolib, which
    /// reads them on every call (cryptolib-pkcs11.md §4). A card that does not answer keeps what was known.
    func refreshCounters(minimumInterval: Duration = .seconds(1)) {
        guard case .present(let present) = state else { return }
        let now = ContinuousClock.now
        if let last = countersReadAt, now - last < minimumInterval { return }
        countersReadAt = now
        _ = try? operate(present.generation, "read counters") { (card) throws(IASECCError) in
            // Held, the card is cpsd's alone since the last operation: its counters are the ones known.
            guard card.hold == nil else { return }
            let status = try CPS3Driver.perform(on: card.connection) { (session) throws(IASECCError) in
                try card.driver.readPINStatus(&session)
            }
            card.countersRead(status)
        }
    }

    /// The idle timeout of the PKCS#11 layer, or SIGHUP: make sure the card holds no verification.
    func forgetVerification() {
        guard case .present = state else { return }
        _ = try? operate(currentGeneration, "forget verification") { (card) throws(IASECCError) in
            try card.ensureNotVerified()
        }
    }

    /// Signs for `client`: VERIFY, sign, reset, in one transaction. A kept PIN is checked first (see
    /// `InsertedCard`); a refused VERIFY is reported once and, for a kept PIN, ends the login for good.
    func sign(
        client: ClientID, generation: UInt64, request: SignatureRequest, pin: SecretHolder, origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try withVerifiedPIN(client: client, generation: generation, pin: pin, origin: origin, "sign",
            validate: { (card) throws(IASECCError) in try card.driver.validate(request) }
        ) { (card, session) throws(IASECCError) in try card.driver.sign(&session, request)
        }
    }

    /// Decrypts for `client`, under the same rules as `sign`.
    func decrypt(
        client: ClientID, generation: UInt64, request: DecryptionRequest, pin: SecretHolder, origin: PINOrigin
    ) throws(TokenError) -> [UInt8] {
        try withVerifiedPIN(client: client, generation: generation, pin: pin, origin: origin, "decrypt",
            validate: { (card) throws(IASECCError) in try card.driver.validate(request) }
        ) { (card, session) throws(IASECCError) in try card.driver.decrypt(&session, request)
        }
    }

    /// One key operation: VERIFY, `body`, reset, in one transaction — or, with a kept PIN, the transaction
    /// kept open and the card verified for this client's next one a moment (`VerifiedHold`), which then runs
    /// `body` alone. A kept PIN is sent only while its login holds and the card's counter is the one cpsd
    /// knows; a refusal ends that login.
    func withVerifiedPIN(
        client: ClientID, generation: UInt64, pin: SecretHolder, origin: PINOrigin, _ name: String,
        validate: (InsertedCard) throws(IASECCError) -> Void,
        _ body: (inout InsertedCard, inout CardSession) throws(IASECCError) -> [UInt8]
    ) throws(TokenError) -> [UInt8] {
        try operate(generation, name) { (card) throws(IASECCError) in
            // Before any APDU: a request the card cannot make costs no VERIFY.
            try validate(card)
            if origin == .keptSinceLogin, let result = try runInHold(client: client, &card, body) { return result }
            try card.ensureNotVerified()
            defer { card.endVerifiedOperation() }
            let kept = origin == .keptSinceLogin
            if kept, !card.holdsCurrentLogin(client) {
                card.loggedIn[client] = nil
                // `.pinRequired` is CKR_USER_NOT_LOGGED_IN (`TokenErrorMapping`).
                throw IASECCError(.pinRequired, "the PIN was changed or unblocked since this login: log in again")
            }
            // No kept code: a login made on the reader's PIN pad, whose keypad is asked again for each operation.
            guard pin.secret.count > 0 || card.connection.hasPINPad else {
                throw IASECCError(.pinRequired, "no PIN to verify for \(client)")
            }
            do throws(IASECCError) {
                let outcome = try CPS3Driver.performVerifying(
                    on: card.connection, driver: card.driver, keepOpen: mayHold(pin, origin: origin)
                ) { (session, state) throws(IASECCError) in
                    // The opening VERIFY without data also gives the counter a kept PIN is checked against.
                    if kept { try card.checkCounterUnchanged(state) }
                    try card.verify(&session, .user, pin.secret)
                    return try body(&card, &session)
                }
                keepVerified(outcome.held, for: client, &card)
                return outcome.value
            } catch where [.wrongPIN, .blocked, .invalidPINFormat].contains(error.code) {
                // `.blocked` includes the counter check's (`checkCounterUnchanged`).
                if kept { card.loggedIn[client] = nil }
                throw error
            }
        }
    }

    /// C_SetPIN. On success every other client's login ends (their kept PIN is the old one); the caller's
    /// own login, if any, goes on with the new PIN. The card is reset afterwards.
    func changePIN(client: ClientID, generation: UInt64, old: SecretHolder, new: SecretHolder) throws(TokenError) {
        try operate(generation, "change PIN") { (card) throws(IASECCError) in
            try card.ensureNotVerified()
            card.mayBeVerified = true
            defer { card.endVerifiedOperation() }
            do throws(IASECCError) {
                try CPS3Driver.performVerifying(on: card.connection, driver: card.driver) {
                    (session, _) throws(IASECCError) in
                    try card.driver.changePIN(&session, old: old.secret, new: new.secret)
                }
                card.verifyingTransactionEnded()
            } catch {
                card.note(error, \.pin)
                throw error
            }
            card.contents.pinStatus.pin.triesLeft = card.contents.pinStatus.pin.maxTries
            card.startCredentialEpoch(keeping: card.loggedIn[client]?.userType == .user ? client : nil)
        }
    }

    /// C_InitPIN: VERIFY PUK then RESET RETRY COUNTER; the counters are read again afterwards (GET DATA,
    /// no try spent). Every other client's login ends (the PIN changed); the card is reset afterwards.
    func unblockPIN(client: ClientID, generation: UInt64, puk: SecretHolder, newPIN: SecretHolder) throws(TokenError) {
        try operate(generation, "unblock PIN") { (card) throws(IASECCError) in
            try card.ensureNotVerified()
            card.mayBeVerified = true
            defer { card.endVerifiedOperation() }
            do throws(IASECCError) {
                let status = try CPS3Driver.performVerifying(on: card.connection, driver: card.driver) {
                    (session, _) throws(IASECCError) in
                    try card.driver.unblockPIN(&session, puk: puk.secret, newPIN: newPIN.secret)
                    return try? card.driver.readPINStatus(&session)
                }
                card.verifyingTransactionEnded()
                if let status {
                    card.contents.pinStatus = status
                } else {
                    card.contents.pinStatus.pin.triesLeft = card.contents.pinStatus.pin.maxTries
                    card.contents.pinStatus.puk.triesLeft = card.contents.pinStatus.puk.maxTries
                }
            } catch {
                if error.code != .noUnblocksLeft { card.note(error, \.puk) }
                if [.wrongPIN, .blocked].contains(error.code) { card.loggedIn[client] = nil }
                throw error
            }
            card.startCredentialEpoch(keeping: client)
        }
    }

    /// C_GenerateRandom: GET CHALLENGE, 8 bytes at a time, in one transaction.
    func generateRandom(client: ClientID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8] {
        try operate(generation, "generate random") { (card) throws(IASECCError) in
            try card.ensureNotVerified()
            return try CPS3Driver.perform(on: card.connection) { (session) throws(IASECCError) in
                try card.driver.getChallenge(&session, length: length)
            }
        }
    }

    private var currentGeneration: UInt64 {
        if case .present(let card) = state { return card.generation }
        return 0
    }
}
