package import SmartCardCore

/// CPS3 behind the generation seam: the card finishes SHA hashes itself (PSO HASH), the authentication key
/// signs through INTERNAL AUTHENTICATE, and the card removes the decryption padding (cps4-card.md §7.2).
/// No PSS and no raw RSA: a CPS3 cannot make them.
extension CPS3Driver: CardDriver {
    package var kind: CardKind { .cps3Contact }
    package var model: String { "IAS ECC" }
    package var pinLength: Int { Self.pinLength }
    package var pukLength: Int { Self.pukLength }

    package func readCard(_ session: inout CardSession) throws(IASECCError) -> CardContents {
        try Self.readCard(&session)
    }

    package func readPINStatus(_ session: inout CardSession) throws(IASECCError) -> PINStatus {
        try Self.readPINStatus(&session)
    }

    package func readPINCounters(_ session: inout CardSession) throws(IASECCError) -> CredentialCounters {
        try Self.readPINCounters(&session)
    }

    package func pinVerificationState(_ session: inout CardSession) throws(IASECCError) -> Int? {
        try Self.verificationState(&session, reference: CPS3.pinReference)
    }

    package func verifyPIN(_ session: inout CardSession, _ pin: borrowing SecretBytes) throws(IASECCError) {
        try Self.verifyPIN(&session, pin)
    }

    package func verifyPUK(_ session: inout CardSession, _ puk: borrowing SecretBytes) throws(IASECCError) {
        try Self.verifyPUK(&session, puk)
    }

    package func changePIN(
        _ session: inout CardSession, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(IASECCError) {
        try Self.changePIN(&session, old: old, new: new)
    }

    package func unblockPIN(
        _ session: inout CardSession, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(IASECCError) {
        try Self.unblockPIN(&session, puk: puk, newPIN: newPIN)
    }

    package func role(of key: PrivateKeyObject) -> KeyRole? {
        switch key.keyReference.map(UInt8.init(truncatingIfNeeded:)) {
        case CPS3.signatureKeyReference: .signature
        case CPS3.authenticationKeyReference: .authentication
        default: nil
        }
    }

    package func capabilities(of role: KeyRole) -> KeyCapabilities {
        switch role {
        case .signature: KeyCapabilities(signatures: [.rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS])
        case .authentication: KeyCapabilities(signatures: [.rsaPKCS], decryptions: [.rsaPKCS])
        }
    }

    package func validate(_ request: SignatureRequest) throws(IASECCError) {
        try request.check(against: capabilities(of: request.role))
        switch (request.role, request.mechanism) {
        case (.signature, .rsaPKCS): _ = try Self.hashAndDigest(of: request.data)
        case (.authentication, _):
            guard !request.data.isEmpty, request.data.count <= CPS3.maxInternalAuthenticateInput else {
                throw IASECCError(
                    .inputTooLong,
                    "the authentication key signs 1 to \(CPS3.maxInternalAuthenticateInput) bytes, not \(request.data.count)")
            }
        default: break
        }
    }

    package func validate(_ request: DecryptionRequest) throws(IASECCError) {
        try request.check(against: capabilities(of: request.role))
    }

    package func sign(_ session: inout CardSession, _ request: SignatureRequest) throws(IASECCError) -> [UInt8] {
        try validate(request)
        try Self.ensureApplication(&session)
        switch (request.role, request.mechanism) {
        case (.authentication, _):
            return try Self.signWithAuthenticationKey(&session, input: request.data)
        case (.signature, .rsaPKCS):
            let (hash, digest) = try Self.hashAndDigest(of: request.data)
            return try Self.signDigestWithSignatureKey(&session, digest: digest, hash: hash)
        case (.signature, _):
            let hash = request.mechanism.messageHash ?? .sha256
            return try Self.signWithSignatureKey(&session, message: request.data, hash: hash)
        }
    }

    package func decrypt(_ session: inout CardSession, _ request: DecryptionRequest) throws(IASECCError) -> [UInt8] {
        try validate(request)
        try Self.ensureApplication(&session)
        return try Self.decipher(&session, cryptogram: request.cryptogram)
    }

    package func readProtectedDataObjects(_ session: inout CardSession, _ objects: [CardDataObject])
        throws(IASECCError) -> [CardDataObject]
    {
        try Self.readProtectedDataObjects(&session, objects)
    }

    package func writeDataObject(_ session: inout CardSession, _ object: CardDataObject, value: [UInt8])
        throws(IASECCError) -> [UInt8]
    {
        try Self.writeDataObject(&session, object, value: value)
    }

    package func getChallenge(_ session: inout CardSession, length: Int) throws(IASECCError) -> [UInt8] {
        var random: [UInt8] = []
        random.reserveCapacity(length + 8)
        while random.count < length { random += try Self.getChallenge(&session, length: 8) }
        return Array(random.prefix(length))
    }

    /// CKM_RSA_PKCS on the signature key takes a SHA-1/SHA-256 DigestInfo or a bare digest: the card builds
    /// the DigestInfo itself, so anything else is refused before it sees a byte.
    static func hashAndDigest(of input: [UInt8]) throws(IASECCError) -> (SignatureHash, [UInt8]) {
        if let parsed = SignatureHash.parseDigestInfo(input) { return parsed }
        if let hash = SignatureHash(digestLength: input.count) { return (hash, input) }
        throw IASECCError(
            .inputInvalid, "the signature key signs a SHA-1/SHA-256 DigestInfo or digest, not \(input.count) bytes")
    }
}

extension CPS3Driver {
    /// PSO DECIPHER with the authentication key (cps4-card.md §7.2): MSE SET CT, then the cryptogram behind
    /// the padding-indicator byte `81` in two chained commands (255 + 2 bytes); the card removes the
    /// PKCS#1 v1.5 type-2 padding and answers the plaintext.
    package static func decipher(_ session: inout CardSession, cryptogram: [UInt8]) throws(IASECCError) -> [UInt8] {
        guard cryptogram.count == 256 else {
            throw IASECCError(.inputTooLong, "an RSA-2048 cryptogram is 256 bytes, not \(cryptogram.count)")
        }
        try withApplicationRecovery(&session) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(.mseSetConfidentialityTemplate(key: CPS3.authenticationKeyReference), "MSE SET CT")
        }
        let data = [CPS3.paddingIndicatorPKCS1] + cryptogram
        _ = try session.expectSuccess(.psoDecipher(chunk: Array(data.prefix(255)), last: false), "PSO DECIPHER (1/2)")
        let response = try session.send(.psoDecipher(chunk: Array(data.dropFirst(255)), last: true))
        if [StatusWord.incorrectData, .referenceDataNotUsable].contains(response.statusWord) {
            throw IASECCError(.encryptedDataInvalid, "the card found no valid padding", statusWord: response.statusWord)
        }
        if let error = IASECCError.check(response.statusWord, "PSO DECIPHER (2/2)") { throw error }
        return response.data
    }
}

extension CommandAPDU {
    /// MSE SET confidentiality template, `00 22 41 B8 06 80 01 1A 84 01 key` (Cryptolib's order: 80 before 84).
    package static func mseSetConfidentialityTemplate(key: UInt8) -> CommandAPDU {
        CommandAPDU(ins: 0x22, p1: 0x41, p2: 0xB8, data: [0x80, 0x01, 0x1A, 0x84, 0x01, key])
    }

    /// One command of a chained PSO DECIPHER, `(00|10) 2A 80 86 Lc chunk [00]`: non-final chunks carry the
    /// chaining bit in CLA and no Le; the last asks for the whole answer.
    package static func psoDecipher(cla: UInt8 = 0x00, chunk: [UInt8], last: Bool) -> CommandAPDU {
        CommandAPDU(
            cla: last ? cla : cla | 0x10, ins: 0x2A, p1: 0x80, p2: 0x86, data: chunk, expectedLength: last ? 256 : nil)
    }
}
