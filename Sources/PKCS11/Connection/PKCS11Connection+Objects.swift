import PKCS11Constants
import SmartCardCore

/// Objects, signatures and random numbers (PKCS#11 2.40 §5.7, §5.8, §5.11, §5.15).
extension PKCS11Connection {
    /// C_FindObjectsInit: every attribute of `template` must match exactly.
    package func findObjectsInit(session handle: UInt, template: [Attribute]) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        let found = visibleObjects(slot: session.slot, token: token).filter { $0.matches(template) }.map(\.handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.find.begin(results: found) }
    }

    /// C_FindObjects.
    package func findObjects(session handle: UInt, maxCount: Int) throws(PKCS11Error) -> [UInt] {
        _ = try liveSession(handle)
        return try sessions.update(handle) { (session) throws(PKCS11Error) in try session.find.next(max: maxCount) }
    }

    /// C_FindObjectsFinal.
    package func findObjectsFinal(session handle: UInt) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.find.end() }
    }

    /// C_GetAttributeValue: one result per request, every request processed; the call's CKR is
    /// `results.returnValue`.
    package func attributeValues(
        session handle: UInt, object: UInt, requests: [AttributeRequest]
    ) throws(PKCS11Error) -> [AttributeResult] {
        let (session, token) = try liveSession(handle)
        guard let found = visibleObjects(slot: session.slot, token: token).first(where: { $0.handle == object }) else {
            throw PKCS11Error(.objectHandleInvalid)
        }
        return requests.map(found.read)
    }

    /// C_SignInit. The key must offer the mechanism on this card generation (its `capabilities`): one the
    /// token has on another key is CKR_KEY_TYPE_INCONSISTENT (ANS 608, cryptolib-pkcs11.md §7.2), one no key
    /// has is CKR_MECHANISM_INVALID (ANS 607).
    package func signInit(session handle: UInt, mechanism: Mechanism, key: UInt) throws(PKCS11Error) {
        let (session, token) = try liveSession(handle)
        guard let signature = SignatureMechanism(mechanism.type),
            token.privateKeys.contains(where: { $0.capabilities.signatures.contains(signature) })
        else { throw PKCS11Error(.mechanismInvalid) }
        let pssHash: SignatureHash? =
            signature.isPSS ? try PSSParameters.hash(for: signature, parameter: mechanism.parameter) : nil
        if !signature.isPSS, !(mechanism.parameter?.isEmpty ?? true) { throw PKCS11Error(.mechanismParamInvalid) }
        // An object that is not a key (a certificate) is CKR_KEY_TYPE_INCONSISTENT for Cryptolib.
        let (object, privateKey) = try operationKey(
            key, session: session, token: token, missing: .keyHandleInvalid, notAKey: .keyTypeInconsistent)
        // A key that cannot sign (a public key) is CKR_KEY_TYPE_INCONSISTENT for Cryptolib (§8.7, ANS 608).
        guard object.flag(.sign), let privateKey else {
            throw PKCS11Error(.keyTypeInconsistent, "\(object.label) does not sign")
        }
        guard privateKey.capabilities.signatures.contains(signature) else {
            throw PKCS11Error(.keyTypeInconsistent, "\(privateKey.label) does not sign with \(signature)")
        }
        let context = SignContext(
            keyHandle: key, keyLabel: object.label, role: privateKey.role, signature: signature, pssHash: pssHash,
            signatureLength: (privateKey.modulusBits + 7) / 8)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.sign.begin(context) }
    }

    /// C_Sign. `capacity` nil is the NULL-buffer length query.
    package func sign(session handle: UInt, data: [UInt8], capacity: Int?) throws(PKCS11Error) -> OutputResult {
        let (session, token) = try liveSession(handle)
        let action = try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.sign.single(data: data, capacity: capacity)
        }
        return try perform(action, session: session, token: token)
    }

    /// C_SignUpdate.
    package func signUpdate(session handle: UInt, part: [UInt8]) throws(PKCS11Error) {
        _ = try liveSession(handle)
        try sessions.update(handle) { (session) throws(PKCS11Error) in try session.sign.update(part: part) }
    }

    /// C_SignFinal.
    package func signFinal(session handle: UInt, capacity: Int?) throws(PKCS11Error) -> OutputResult {
        let (session, token) = try liveSession(handle)
        let action = try sessions.update(handle) { (session) throws(PKCS11Error) in
            try session.sign.final(capacity: capacity)
        }
        return try perform(action, session: session, token: token)
    }

    /// At most this many random bytes per C_GenerateRandom: the card gives 8 per GET CHALLENGE, and a
    /// real CPS3 takes tens of milliseconds per APDU, so a larger request would hold the reader (and
    /// every other client's signature) for seconds. Callers needing more call again.
    package static let maxRandomLength = 1024

    /// C_GenerateRandom: GET CHALLENGE on the card.
    package func generateRandom(session handle: UInt, length: Int) throws(PKCS11Error) -> [UInt8] {
        let (session, token) = try liveSession(handle)
        guard length > 0 else { return [] }
        guard length <= Self.maxRandomLength else {
            throw PKCS11Error(.argumentsBad, "at most \(Self.maxRandomLength) random bytes per call, \(length) asked")
        }
        do {
            return try cards.generateRandom(
                client: client, slot: session.slot, generation: token.generation, length: length)
        } catch {
            throw PKCS11Error(error)
        }
    }

    private func perform(
        _ action: SignOperation.Action, session: SessionTable.Session, token: TokenState
    ) throws(PKCS11Error) -> OutputResult {
        switch action {
        case .answer(let result):
            return result
        case .refuse(let context, let error):
            report(context, session: session, result: error.code)
            throw error
        case .sign(let context, let data):
            let request = SignatureRequest(
                role: context.role, mechanism: context.signature, pssHash: context.pssHash, data: data)
            do throws(PKCS11Error) {
                let signature = try withKeptPIN(session: session) { (pin) throws(TokenError) in
                    try cards.sign(
                        client: client, slot: session.slot, generation: token.generation, request: request, pin: pin,
                        origin: .keptSinceLogin)
                }
                // The length promised at C_SignInit (from the certificate) is what the caller's buffer was
                // checked against: a card answering another length is broken, not trusted.
                guard signature.count == context.signatureLength else {
                    throw PKCS11Error(
                        .deviceError,
                        "the card signed \(signature.count) bytes for a \(context.signatureLength)-byte key")
                }
                report(context, session: session, result: .ok)
                return .value(signature)
            } catch {
                report(context, session: session, result: error.code)
                throw error
            }
        }
    }

    private func report(_ context: SignContext, session: SessionTable.Session, result: CKR) {
        audit?(
            SignAudit(
                client: client, peer: peer, slot: session.slot, keyLabel: context.keyLabel,
                mechanism: context.mechanism, result: result))
    }
}
