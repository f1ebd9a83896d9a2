import IASECC
import PKCS11
import SmartCardCore

/// The card operations, each one PC/SC transaction (`CPS3Driver.perform`), with the PIN isolation of
/// DESIGN decision 3: the card is only ever verified for the client the operation is for.
extension ReaderActor {
    /// C_Login: VERIFY once; on success the card is verified for `client`.
    func login(client: ClientID, generation: UInt64, userType: UserType, pin: SecretHolder) throws(TokenError) {
        try operate(generation, "login") { card in
            try card.handOver(to: client)
            card.loggedIn[client] = nil
            do {
                try CPS3Driver.perform(on: card.connection) { session in
                    try card.verify(&session, userType, pin.secret)
                }
            } catch {
                // A refused VERIFY may leave the card in any state: make sure it is verified for nobody.
                try? card.resetSecurity()
                throw error
            }
            card.verified = Verification(client: client, userType: userType)
            card.loggedIn[client] = userType
        }
    }

    /// C_Logout: the card forgets the verification if it was this client's.
    func logout(client: ClientID) {
        guard case .present = state else { return }
        _ = try? operate(currentGeneration, "logout") { card in
            card.loggedIn[client] = nil
            if card.verified?.client == client { try card.resetSecurity() }
        }
    }

    /// The idle timeout of the PKCS#11 layer, or SIGHUP: the card forgets any verification.
    func forgetVerification() {
        guard case .present = state else { return }
        _ = try? operate(currentGeneration, "forget verification") { card in
            if card.verified != nil { try card.resetSecurity() }
        }
    }

    /// Signs for `client`, verifying its PIN first unless the card is verified for it already. A
    /// refused VERIFY is reported, never retried. If the card forgot a verification we recorded (another
    /// process reset it), the PIN is verified once and the signature made again.
    func sign(client: ClientID, generation: UInt64, request: SignatureRequest, pin: SecretHolder) throws(TokenError)
        -> [UInt8]
    {
        try Self.validate(request)
        return try operate(generation, "sign") { card in
            try card.handOver(to: client)
            let wanted = Verification(client: client, userType: .user)
            do {
                return try CPS3Driver.perform(on: card.connection) { session in
                    let alreadyVerified = card.verified == wanted
                    if !alreadyVerified {
                        guard pin.secret.count > 0 else {
                            throw TokenError(.notLoggedIn, "no PIN to verify for \(client)")
                        }
                        try card.verify(&session, .user, pin.secret)
                        card.verified = wanted
                    }
                    do {
                        return try Self.sign(&session, request)
                    } catch let error as IASECCError where error.code == .pinRequired && alreadyVerified && pin.secret.count > 0 {
                        card.verified = nil
                        try card.verify(&session, .user, pin.secret)
                        card.verified = wanted
                        return try Self.sign(&session, request)
                    }
                }
            } catch let error as IASECCError where [.wrongPIN, .blocked, .invalidPINFormat].contains(error.code) {
                try? card.resetSecurity()
                throw error
            }
        }
    }

    /// C_SetPIN. The card is reset afterwards: whatever CHANGE REFERENCE DATA left verified, nobody
    /// finds it so (the caller's next signature verifies the new PIN).
    func changePIN(client: ClientID, generation: UInt64, old: SecretHolder, new: SecretHolder) throws(TokenError) {
        try operate(generation, "change PIN") { card in
            try card.handOver(to: client)
            defer { try? card.resetSecurity() }
            do {
                try CPS3Driver.perform(on: card.connection) { session in
                    try CPS3Driver.changePIN(&session, old: old.secret, new: new.secret)
                }
            } catch let error as IASECCError {
                card.note(error, \.pin)
                throw error
            }
            card.contents.pinStatus.pin.triesLeft = card.contents.pinStatus.pin.maxTries
        }
    }

    /// C_InitPIN: VERIFY PUK then RESET RETRY COUNTER; the counters are read again afterwards (GET DATA,
    /// no try spent), and the card is reset so the PUK verification does not outlive the operation.
    func unblockPIN(client: ClientID, generation: UInt64, puk: SecretHolder, newPIN: SecretHolder) throws(TokenError) {
        try operate(generation, "unblock PIN") { card in
            try card.handOver(to: client)
            defer { try? card.resetSecurity() }
            do {
                let status = try CPS3Driver.perform(on: card.connection) { session in
                    try CPS3Driver.unblockPIN(&session, puk: puk.secret, newPIN: newPIN.secret)
                    return try? CPS3Driver.readPINStatus(&session)
                }
                if let status {
                    card.contents.pinStatus = status
                } else {
                    card.contents.pinStatus.pin.triesLeft = card.contents.pinStatus.pin.maxTries
                    card.contents.pinStatus.puk.triesLeft = card.contents.pinStatus.puk.maxTries
                }
            } catch let error as IASECCError {
                if error.code != .noUnblocksLeft { card.note(error, \.puk) }
                throw error
            }
        }
    }

    /// C_GenerateRandom: GET CHALLENGE, 8 bytes at a time, in one transaction.
    func generateRandom(client: ClientID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8] {
        try operate(generation, "generate random") { card in
            try card.handOver(to: client)
            return try CPS3Driver.perform(on: card.connection) { session in
                var random: [UInt8] = []
                random.reserveCapacity(length + 8)
                while random.count < length { random += try CPS3Driver.getChallenge(&session, length: 8) }
                return Array(random.prefix(length))
            }
        }
    }

    private var currentGeneration: UInt64 {
        if case .present(let card) = state { return card.generation }
        return 0
    }

    /// Refuses, before the card sees anything, what CKM_RSA_PKCS cannot do on the signature key: it
    /// signs only a SHA-1/SHA-256 DigestInfo or bare digest (the card finishes the DigestInfo itself).
    static func validate(_ request: SignatureRequest) throws(TokenError) {
        guard case .rsaPKCS(.signature, let input) = request else { return }
        if SignatureHash.parseDigestInfo(input) != nil { return }
        if SignatureHash.allCases.contains(where: { $0.digestLength == input.count }) { return }
        throw TokenError(
            .mechanismInvalid, "the signature key signs a SHA-1/SHA-256 DigestInfo or digest, not \(input.count) bytes")
    }

    /// One signature, with the key and mechanism `request` names (cps3-card.md §6).
    static func sign(_ session: inout CardSession, _ request: SignatureRequest) throws(IASECCError) -> [UInt8] {
        switch request {
        case .rsaPKCS(.authentication, let input):
            return try CPS3Driver.signWithAuthenticationKey(&session, input: input)
        case .rsaPKCS(.signature, let input):
            if let (hash, digest) = SignatureHash.parseDigestInfo(input) {
                return try CPS3Driver.signDigestWithSignatureKey(&session, digest: digest, hash: hash)
            }
            if let hash = SignatureHash.allCases.first(where: { $0.digestLength == input.count }) {
                return try CPS3Driver.signDigestWithSignatureKey(&session, digest: input, hash: hash)
            }
            throw IASECCError(
                .inputTooLong, "the signature key signs a SHA-1/SHA-256 DigestInfo or digest, not \(input.count) bytes")
        case .hashAndSign(let sha256, let message):
            return try CPS3Driver.signWithSignatureKey(&session, message: message, hash: sha256 ? .sha256 : .sha1)
        }
    }
}
