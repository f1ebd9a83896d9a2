import PKCS11Constants
import SmartCardCore

/// Decryption with the authentication key (PKCS#11 2.40 §5.9), single part.
extension PKCS11Connection {
    /// C_DecryptInit. A mechanism no key decrypts with is CKR_MECHANISM_INVALID (ANS 504); a key without
    /// CKA_DECRYPT (the signature key, a public key), or a decrypting key that lacks this mechanism, is
    /// CKR_KEY_TYPE_INCONSISTENT, as Cryptolib 5.2.2 answers (cryptolib-pkcs11.md §7.2 says
    /// KEY_FUNCTION_NOT_PERMITTED; DifferentialCryptolibTests shows what the vendor's module returns).
    package func decryptInit(session handle: UInt, mechanism: Mechanism, key: UInt) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard let decryption = DecryptionMechanism(mechanism.type),
            token.privateKeys.contains(where: { $0.capabilities.decryptions.contains(decryption) })
        else { throw PKCS11Error(.mechanismInvalid) }
        guard mechanism.parameter?.isEmpty ?? true else { throw PKCS11Error(.mechanismParamInvalid) }
        let (object, privateKey) = try operationKey(key, session: session, token: token, missing: .objectHandleInvalid)
        guard object.flag(.decrypt), let privateKey else { throw PKCS11Error(.keyTypeInconsistent, "the key does not decrypt") }
        guard privateKey.capabilities.decryptions.contains(decryption) else {
            throw PKCS11Error(.keyTypeInconsistent, "\(privateKey.label) does not decrypt with \(decryption)")
        }
        let context = DecryptContext(
            keyHandle: key, keyLabel: object.label, role: privateKey.role, mechanism: decryption,
            modulusLength: (privateKey.modulusBits + 7) / 8)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.decrypt.begin(context) }
    }

    /// C_Decrypt. `capacity` nil is the NULL-buffer length query.
    package func decrypt(session handle: UInt, cryptogram: [UInt8], capacity: Int?) throws(PKCS11Error) -> OutputResult
    {
        let (session, token) = try liveSession(handle)
        let action = try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.decrypt.single(cryptogram: cryptogram, capacity: capacity)
        }
        switch action {
        case .answer(let result):
            return result
        case .decrypt(let context, let cryptogram):
            let request = DecryptionRequest(role: context.role, mechanism: context.mechanism, cryptogram: cryptogram)
            let plaintext: [UInt8]
            do {
                plaintext = try withKeptPIN(session: session) { (pin) throws(TokenError) in
                    try cards.decrypt(
                        client: client, slot: session.slot, generation: token.generation, request: request, pin: pin,
                        origin: .keptSinceLogin)
                }
            } catch {
                // A length the card refuses is the cryptogram's (C_Decrypt has no CKR_DATA_LEN_RANGE).
                throw error.code == .dataLenRange ? PKCS11Error(.encryptedDataLenRange, error.reason) : error
            }
            guard plaintext.count <= context.modulusLength else {
                throw PKCS11Error(
                    .deviceError, "the card answered \(plaintext.count) bytes for a \(context.modulusLength)-byte key")
            }
            // `single` gave a capacity with the `.decrypt` action (a length query never reaches the card).
            return try sessions.update(handle) { (session) throws(PKCS11Error) in
                session.decrypt.deliver(plaintext, context: context, cryptogram: cryptogram, capacity: capacity ?? 0)
            }
        }
    }
}
