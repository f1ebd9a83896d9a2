import PKCS11Constants
import SmartCardCore

/// What signatures and decryptions share: finding the key of an operation, and lending the kept PIN to
/// one card operation under the rules of `TokenService.sign`.
extension PKCS11Connection {
    /// The key object `handle` names and, for a private key, the card key behind it. `missing` is the CKR of
    /// a handle that names no key: CKR_KEY_HANDLE_INVALID for C_SignInit (ANS 606), CKR_OBJECT_HANDLE_INVALID
    /// for C_DecryptInit (ANS 503, as Cryptolib: cryptolib-pkcs11.md §8.8).
    func operationKey(
        _ handle: UInt, session: SessionTable.Session, token: TokenState, missing: CKR, notAKey: CKR? = nil
    ) throws(PKCS11Error) -> (TokenObject, TokenPrivateKey?) {
        guard let object = allObjects(slot: session.slot, token: token).first(where: { $0.handle == handle }) else {
            throw PKCS11Error(missing)
        }
        if object.isPrivate, login.user(on: session.slot) != .user { throw PKCS11Error(.userNotLoggedIn) }
        guard object.objectClass == CKO.privateKey || object.objectClass == CKO.publicKey else {
            throw PKCS11Error(notAKey ?? missing, "not a key")
        }
        guard object.objectClass == CKO.privateKey, let role = object.keyRole else { return (object, nil) }
        let id = object.attributes[.id]
        let key =
            token.privateKeys.first { $0.role == role && $0.id == id } ?? token.privateKeys.first { $0.role == role }
        return (object, key)
    }

    /// Runs one card operation with the PIN kept since C_Login. A refusal that ends the login on the card service's
    /// side (kept PIN refused, PIN changed or counters moved elsewhere) zeroes the kept PIN here too, so it
    /// can never reach the card again.
    func withKeptPIN<R>(
        session: SessionTable.Session, _ body: (borrowing SecretBytes) throws(TokenError) -> R
    ) throws(PKCS11Error) -> R {
        guard let pin = keptSecret(session.slot), login.user(on: session.slot) == .user else {
            throw PKCS11Error(.userNotLoggedIn)
        }
        let result: R?
        do {
            result = try pin.use(body)
        } catch {
            if [.pinIncorrect, .pinLocked, .notLoggedIn].contains(error.code) { endLogin(slot: session.slot) }
            throw PKCS11Error(error)
        }
        guard let result else {
            endLogin(slot: session.slot)
            throw PKCS11Error(.userNotLoggedIn, "the PIN was forgotten after the idle timeout")
        }
        return result
    }
}
