import PKCS11Constants
import SmartCardCore

/// What Cryptolib does in software (cryptolib-pkcs11.md §8.6–8.7): digests, signature verification and
/// encryption with the public keys. No card access beyond the session's liveness check.
extension PKCS11Connection {
    // MARK: - Digest (ANS 800–819)

    /// C_DigestInit: CKM_SHA_1 or CKM_SHA256, no parameter; no login needed.
    package func digestInit(session handle: UInt, mechanism: Mechanism) throws(PKCS11Error) {
        _ = try liveSession(handle)
        guard let hash = SignatureHash.allCases.first(where: { $0.ckm == mechanism.type }) else {
            throw PKCS11Error(.mechanismInvalid)
        }
        guard mechanism.parameter?.isEmpty ?? true else { throw PKCS11Error(.mechanismParamInvalid) }
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.digest.begin(hash) }
    }

    /// C_Digest. `capacity` nil is the NULL-buffer length query.
    package func digest(session handle: UInt, data: [UInt8], capacity: Int?) throws(PKCS11Error) -> OutputResult {
        _ = try liveSession(handle)
        return try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.digest.single(data: data, capacity: capacity)
        }
    }

    /// C_DigestUpdate.
    package func digestUpdate(session handle: UInt, part: [UInt8]) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.digest.update(part: part) }
    }

    /// C_DigestFinal.
    package func digestFinal(session handle: UInt, capacity: Int?) throws(PKCS11Error) -> OutputResult {
        _ = try liveSession(handle)
        return try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.digest.final(capacity: capacity)
        }
    }

    // MARK: - Verify (ANS 700–737, 1006–1008, CPS4 1305–1311)

    /// C_VerifyInit. The mechanism must be one the token signs with (ANS 706: else CKR_MECHANISM_INVALID,
    /// so no PSS on a CPS3); a public key needs CKA_VERIFY; a private key handle verifies with its
    /// certificate's public key (no ANS row refuses it, and 1305/1310 name the authentication key).
    package func verifyInit(session handle: UInt, mechanism: Mechanism, key: UInt) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard let signature = SignatureMechanism(mechanism.type), token.mechanisms.contains(mechanism.type) else {
            throw PKCS11Error(.mechanismInvalid)
        }
        let pss: PSSVerifyParameters?
        if signature.isPSS {
            pss = try PSSVerifyParameters(for: signature, parameter: mechanism.parameter)
        } else {
            guard mechanism.parameter?.isEmpty ?? true else { throw PKCS11Error(.mechanismParamInvalid) }
            pss = nil
        }
        let (object, _) = try operationKey(key, session: session, token: token, missing: .keyHandleInvalid)
        guard object.objectClass == CKO.privateKey || object.flag(.verify) else {
            throw PKCS11Error(.keyTypeInconsistent, "\(object.label) does not verify")
        }
        let context = VerifyContext(
            keyHandle: key, signature: signature, pss: pss, key: try publicOperation(of: object))
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.verify.begin(context) }
    }

    /// C_Verify: returns when the signature is valid, else throws Cryptolib's CKR.
    package func verify(session handle: UInt, data: [UInt8], signature: [UInt8]) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.verify.single(data: data, signature: signature)
        }
    }

    /// C_VerifyUpdate.
    package func verifyUpdate(session handle: UInt, part: [UInt8]) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.verify.update(part: part) }
    }

    /// C_VerifyFinal.
    package func verifyFinal(session handle: UInt, signature: [UInt8]) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.verify.final(signature: signature)
        }
    }

    // MARK: - Encrypt (ANS 400–409)

    /// C_EncryptInit: CKM_RSA_PKCS only (CKM_RSA_X_509 refused as Cryptolib, ANS 403), with a public key
    /// whose CKA_ENCRYPT is true and whose label lacks "Sign" (the authentication public key: §8.6). A private
    /// key or the signature public key is CKR_KEY_TYPE_INCONSISTENT (ANS 404); a bad handle
    /// CKR_KEY_HANDLE_INVALID (ANS 402).
    package func encryptInit(session handle: UInt, mechanism: Mechanism, key: UInt) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard mechanism.type == .rsaPKCS, token.mechanisms.contains(.rsaPKCS) else {
            throw PKCS11Error(.mechanismInvalid)
        }
        guard mechanism.parameter?.isEmpty ?? true else { throw PKCS11Error(.mechanismParamInvalid) }
        let (object, _) = try operationKey(key, session: session, token: token, missing: .keyHandleInvalid)
        guard object.objectClass == CKO.publicKey, object.flag(.encrypt), !object.label.contains("Sign") else {
            throw PKCS11Error(.keyTypeInconsistent, "\(object.label) does not encrypt")
        }
        let context = EncryptContext(keyHandle: key, key: try publicOperation(of: object))
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.encrypt.begin(context) }
    }

    /// C_Encrypt. `capacity` nil is the NULL-buffer length query (the modulus length).
    package func encrypt(session handle: UInt, data: [UInt8], capacity: Int?) throws(PKCS11Error) -> OutputResult {
        _ = try liveSession(handle)
        let action = try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.encrypt.single(data: data, capacity: capacity)
        }
        switch action {
        case .answer(let result): return result
        case .encrypt(let context, let data): return .value(try SoftwareRSA.encrypt(data, key: context.key))
        }
    }

    /// The RSA public key of a key object (CKA_MODULUS and CKA_PUBLIC_EXPONENT, from its certificate).
    private func publicOperation(of object: TokenObject) throws(PKCS11Error) -> RSAPublicOperation {
        guard let modulus = object.attributes[.modulus], let exponent = object.attributes[.publicExponent],
            let operation = RSAPublicOperation(modulus: modulus, publicExponent: exponent)
        else { throw PKCS11Error(.keyTypeInconsistent, "\(object.label) has no usable RSA public key") }
        return operation
    }
}
