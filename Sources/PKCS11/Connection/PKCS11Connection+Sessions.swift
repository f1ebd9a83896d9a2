import ErrorShape
package import PKCS11Constants
package import SmartCardCore

/// Sessions and login (PKCS#11 2.40 §5.6).
extension PKCS11Connection {
    /// C_OpenSession. CPS tokens are read-only but R/W sessions are allowed (C_SetPIN needs one).
    package func openSession(slot: SlotID, flags: UInt) throws(PKCS11Error) -> UInt {
        let token = try presentToken(slot)
        guard flags & CKF.serialSession != 0 else { throw PKCS11Error(.sessionParallelNotSupported) }
        forgetOtherGenerations(slot: slot, current: token.generation)
        let readWrite = flags & CKF.rwSession != 0
        if !readWrite, login.user(on: slot) == .securityOfficer { throw PKCS11Error(.sessionReadWriteSOExists) }
        return sessions.open(slot: slot, generation: token.generation, readWrite: readWrite)
    }

    /// C_CloseSession. Closing the token's last session ends the login.
    package func closeSession(_ handle: UInt) throws(PKCS11Error) {
        try requireInitialized()
        let closed = try sessions.close(handle)
        if sessions.sessions(on: closed.slot).isEmpty { endLogin(slot: closed.slot) }
    }

    /// C_CloseAllSessions.
    package func closeAllSessions(slot: SlotID) throws(PKCS11Error) {
        _ = try slotState(slot)
        _ = sessions.closeAll(slot: slot)
        endLogin(slot: slot)
    }

    /// C_GetSessionInfo.
    package func sessionInfo(_ handle: UInt) throws(PKCS11Error) -> SessionInfo {
        let (session, _) = try liveSession(handle)
        let flags = CKF.serialSession | (session.readWrite ? CKF.rwSession : 0)
        return SessionInfo(slotID: session.slot, state: login.state(of: session), flags: flags)
    }

    /// C_Login: one VERIFY, never retried. The PIN (or PUK) is kept for later signatures (or C_InitPIN).
    package func login(session handle: UInt, userType: CKU, pin: consuming SecretBytes) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        let user = try login.checkLogin(userType, on: session.slot, sessions: sessions.sessions(on: session.slot))
        do {
            try cards.login(client: client, slot: session.slot, generation: token.generation, userType: user, pin: pin)
        } catch where [.pinLengthRange, .pinInvalid].contains(error.code) {
            // C_Login knows no CKR_PIN_LEN_RANGE (PKCS#11 2.20): a code the card cannot take is refused as
            // Cryptolib does, CKR_PIN_INCORRECT, and never reached the card (cryptolib-pkcs11.md §8.2).
            throw PKCS11Error(.pinIncorrect, error.description)
        } catch {
            throw PKCS11Error(error)
        }
        login.loggedIn(user, on: session.slot, generation: token.generation)
        setKeptSecret(KeptSecret(pin), for: session.slot)
    }

    /// C_Logout.
    package func logout(session handle: UInt) throws(PKCS11Error) {
        let (session, _) = try liveSession(handle)
        guard login.user(on: session.slot) != nil else { throw PKCS11Error(.userNotLoggedIn) }
        endLogin(slot: session.slot)
    }

    /// C_InitPIN: after an SO login with the PUK, unblocks the PIN and sets it (cps3-card.md §7).
    package func initPIN(session handle: UInt, pin: consuming SecretBytes) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard login.user(on: session.slot) == .securityOfficer, let puk = keptSecret(session.slot) else {
            throw PKCS11Error(.userNotLoggedIn, "C_InitPIN needs the SO (PUK) login")
        }
        guard session.readWrite else { throw PKCS11Error(.sessionReadOnly) }
        let done: Void?
        do {
            done = try puk.use { (puk) throws(TokenError) in
                try cards.unblockPIN(
                    client: client, slot: session.slot, generation: token.generation, puk: puk, newPIN: pin)
            }
        } catch {
            // A kept PUK the card refused is never sent again: the SO login ends with it.
            if [.pinIncorrect, .pinLocked].contains(error.code) { endLogin(slot: session.slot) }
            throw PKCS11Error(error)
        }
        guard done != nil else {
            endLogin(slot: session.slot)
            throw PKCS11Error(.userNotLoggedIn, "the PUK was forgotten after the idle timeout")
        }
    }

    /// C_SetPIN: the user PIN (changing the PUK is not offered, as in Cryptolib).
    package func setPIN(
        session handle: UInt, old: consuming SecretBytes, new: consuming SecretBytes
    ) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard session.readWrite else { throw PKCS11Error(.sessionReadOnly) }
        let user = login.user(on: session.slot)
        guard user != .securityOfficer else { throw PKCS11Error(.functionNotSupported, "the PUK cannot be changed") }
        do {
            try cards.changePIN(client: client, slot: session.slot, generation: token.generation, old: old, new: new)
        } catch {
            throw PKCS11Error(error)
        }
        if user == .user { setKeptSecret(KeptSecret(new), for: session.slot) }
    }

    // MARK: - Helpers

    /// The session and its token, if the token is still the one the session was opened on. A session
    /// of a pulled or replaced card is gone: its handle is invalid from then on.
    func liveSession(_ handle: UInt) throws(PKCS11Error) -> (SessionTable.Session, TokenState) {
        try requireInitialized()
        let session = try sessions.session(handle)
        let token = cards.slots().first { $0.id == session.slot }?.token
        guard let token, token.generation == session.generation else {
            forgetOtherGenerations(slot: session.slot, current: token?.generation)
            throw PKCS11Error(.sessionHandleInvalid, "the token of this session was removed")
        }
        return (session, token)
    }

    /// Drops the sessions and the login that belong to an earlier card in `slot`.
    func forgetOtherGenerations(slot: SlotID, current: UInt64?) {
        _ = sessions.closeAll(slot: slot, keepingGeneration: current)
        if let generation = login.generation(on: slot), generation != current { endLogin(slot: slot) }
    }

    /// Ends the login on `slot` if any: zeroes the kept PIN, stops sign and decrypt operations, tells the card service.
    func endLogin(slot: SlotID) {
        guard (try? login.logout(on: slot)) != nil else { return }
        setKeptSecret(nil, for: slot)
        for session in sessions.sessions(on: slot) {
            _ = try? sessions.update(session.handle) { (session) throws(PKCS11Error) in
                session.sign.cancel()
                session.decrypt.cancel()
                // A verification may use a private key handle, which the login made visible.
                session.verify.cancel()
            }
        }
        cards.logout(client: client, slot: slot)
    }
}
