import IASECC
import P11KitClient
import PKCS11Constants

extension DaemonCard {
    /// A CKR in words, with what to do next, in the same terms as the direct path. A wrong code says the
    /// tries left, read from the token flags after the failure.
    func explain(_ error: PKCS11ClientError, user: CKU) -> CLIError {
        guard let rv = error.rv else { return CLIError("cpsd: \(error)") }
        let what = user == .user ? "PIN" : "PUK"
        switch rv {
        case CKR.pinIncorrect:
            let flags = (try? tokenInfo())?.flags
            let counters = flags.map { user == .user ? Self.counters(tokenFlags: $0).pin : Self.counters(tokenFlags: $0).puk }
            guard let counters else { return CLIError("Wrong \(what). The tries left are unknown (cpsd did not say).") }
            guard counters.triesLeft > 0 else { return lockedAdvice(user) }
            return CLIError.explain(IASECCError(.wrongPIN, what, triesLeft: counters.triesLeft))
        case CKR.pinLocked:
            return lockedAdvice(user)
        case CKR.pinLenRange, CKR.pinInvalid:
            return CLIError("cpsd refused the \(what)'s format; the card was not touched.")
        case CKR.tokenNotPresent, CKR.deviceRemoved, CKR.sessionHandleInvalid:
            return CLIError("The card was removed or is not inserted (cpsd: \(rv.symbolicName)).")
        case CKR.keyTypeInconsistent, CKR.mechanismInvalid:
            return CLIError("This key does not sign with that mechanism through cpsd (\(rv.symbolicName)).")
        case CKR.dataLenRange:
            return CLIError("The input's length does not suit this key and mechanism (\(rv.symbolicName)).")
        case CKR.userAlreadyLoggedIn:
            return CLIError("cpsd says this connection is already logged in; retry (\(rv.symbolicName)).")
        case CKR.deviceError:
            return CLIError(
                "The card or the reader failed (cpsd: \(rv.symbolicName)). See cpsd's log "
                    + "(`journalctl --user -u cpsd`), re-insert the card and retry.")
        default:
            return CLIError("cpsd: \(error)")
        }
    }

    private func lockedAdvice(_ user: CKU) -> CLIError {
        user == .user
            ? CLIError.explain(IASECCError(.blocked, "PIN"))
            : CLIError("The PUK is blocked: the card cannot be unblocked any more. Ask ANS support for a new card.")
    }
}
