package import SmartCardCore

/// CPS4 signatures and decryption (cps4-card.md §7.1). The host always hashes; the card pads for PSO CDS
/// (PKCS#1 v1.5 or PSS with sLen = hLen) and does raw RSA through PSO DECIPHER, for which the host pads
/// (type 1 to sign with the authentication key) or unpads (type 2 after a decryption).
extension CPS4Driver {
    /// RSA-2048 only (§1).
    static let modulusLength = 256

    static func sign(_ session: inout CardSession, _ request: SignatureRequest) throws(IASECCError) -> [UInt8] {
        let key = request.role == .signature ? CPS4.signatureKeyReference : CPS4.authenticationKeyReference
        if request.mechanism.isPSS {
            guard let hash = request.pssHash else { throw IASECCError(.mechanismNotSupported, "PSS without a hash") }
            let digest = try digest(of: request, hash: hash)
            return try computeSignature(&session, ChipDocAlgorithm(hash: hash, pss: true), key: key, digest: digest)
        }
        switch (request.role, request.mechanism) {
        case (.signature, .rsaPKCS):
            let (hash, digest) = try CPS3Driver.hashAndDigest(of: request.data)
            return try computeSignature(&session, ChipDocAlgorithm(hash: hash, pss: false), key: key, digest: digest)
        case (.signature, _):
            let hash = request.mechanism.messageHash ?? .sha256
            let digest = try digest(of: request, hash: hash)
            return try computeSignature(&session, ChipDocAlgorithm(hash: hash, pss: false), key: key, digest: digest)
        case (.authentication, .rsaX509):
            guard request.data.count <= modulusLength else {
                throw IASECCError(.inputTooLong, "raw RSA takes at most \(modulusLength) bytes, not \(request.data.count)")
            }
            return try rawRSA(&session, Array(repeating: 0, count: modulusLength - request.data.count) + request.data)
        case (.authentication, .rsaPKCS):
            return try rawRSA(&session, try RSAPadding.type1(request.data, modulusLength: modulusLength))
        case (.authentication, _):
            let hash = request.mechanism.messageHash ?? .sha256
            let digestInfo = hash.digestInfoPrefix + (try digest(of: request, hash: hash))
            return try rawRSA(&session, try RSAPadding.type1(digestInfo, modulusLength: modulusLength))
        }
    }

    static func decrypt(_ session: inout CardSession, _ request: DecryptionRequest) throws(IASECCError) -> [UInt8] {
        guard request.cryptogram.count == modulusLength else {
            throw IASECCError(.inputTooLong, "an RSA-2048 cryptogram is \(modulusLength) bytes, not \(request.cryptogram.count)")
        }
        let block = try rawRSA(&session, request.cryptogram)
        switch request.mechanism {
        case .rsaX509: return block
        case .rsaPKCS: return try RSAPadding.removeType2(block)
        }
    }

    /// The digest to sign: the caller's (CKM_RSA_PKCS_PSS) or the host's hash of the message.
    private static func digest(of request: SignatureRequest, hash: SignatureHash) throws(IASECCError) -> [UInt8] {
        guard request.mechanism.messageHash != nil else {
            guard request.data.count == hash.digestLength else {
                throw IASECCError(.inputTooLong, "a \(hash.rawValue) digest is \(hash.digestLength) bytes, not \(request.data.count)")
            }
            return request.data
        }
        return hash.digest(of: request.data)
    }

    /// MSE SET DST (`91 02 alg key|80`) then PSO CDS over the digest.
    private static func computeSignature(
        _ session: inout CardSession, _ algorithm: ChipDocAlgorithm, key: UInt8, digest: [UInt8]
    ) throws(IASECCError) -> [UInt8] {
        try ensureChipDoc(&session)
        var recovered = false
        try withChipDocRecovery(&session, recovered: &recovered) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(.mseSetChipDocSignature(algorithm, key: key), "MSE SET DST")
        }
        do {
            return try checkedLength(session.expectSuccess(.psoComputeDigitalSignature(hash: digest, cla: cla), "PSO CDS"))
        } catch {
            throw contextLostIfRecovered(error, recovered: recovered)
        }
    }

    /// Raw RSA with the authentication key: MSE SET CT (`83 01 20`), then the 256-byte block in two
    /// chained PSO DECIPHER commands (255 + 1 bytes), with no padding-indicator byte.
    private static func rawRSA(_ session: inout CardSession, _ block: [UInt8]) throws(IASECCError) -> [UInt8] {
        try ensureChipDoc(&session)
        var recovered = false
        try withChipDocRecovery(&session, recovered: &recovered) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(.mseSetChipDocDecipher(key: CPS4.authenticationKeyReference), "MSE SET CT")
        }
        do {
            _ = try session.expectSuccess(
                .psoDecipher(cla: cla, chunk: Array(block.prefix(255)), last: false), "PSO DECIPHER (1/2)")
            return try checkedLength(
                session.expectSuccess(.psoDecipher(cla: cla, chunk: Array(block.dropFirst(255)), last: true), "PSO DECIPHER (2/2)"))
        } catch {
            throw contextLostIfRecovered(error, recovered: recovered)
        }
    }

    private static func checkedLength(_ bytes: [UInt8]) throws(IASECCError) -> [UInt8] {
        guard bytes.count == modulusLength else {
            throw IASECCError(.malformedCardData, "the card answered \(bytes.count) bytes, RSA-2048 gives \(modulusLength)")
        }
        return bytes
    }
}

/// PKCS#1 v1.5 block formatting done on the host for CPS4's raw RSA (RFC 8017 §9.2, §7.2.2).
enum RSAPadding {
    /// `00 01 FF…FF 00 input`, at least 8 bytes of FF.
    static func type1(_ input: [UInt8], modulusLength: Int) throws(IASECCError) -> [UInt8] {
        guard input.count <= modulusLength - 11 else {
            throw IASECCError(.inputTooLong, "PKCS#1 v1.5 signs at most \(modulusLength - 11) bytes, not \(input.count)")
        }
        return [0x00, 0x01] + Array(repeating: 0xFF, count: modulusLength - 3 - input.count) + [0x00] + input
    }

    /// The message of a type-2 block `00 02 PS 00 M` (PS: at least 8 non-zero bytes). The whole block is
    /// scanned whatever it holds, so the time taken does not tell where the padding went wrong.
    static func removeType2(_ block: [UInt8]) throws(IASECCError) -> [UInt8] {
        var separator = 0
        var bad: UInt8 = block.count < 11 ? 1 : 0
        if block.count >= 2 { bad |= block[0] | (block[1] ^ 0x02) }
        for index in 2..<max(2, block.count) where separator == 0 && block[index] == 0 { separator = index }
        if separator < 10 { bad |= 1 }
        guard bad == 0 else { throw IASECCError(.encryptedDataInvalid, "the decrypted block is not PKCS#1 v1.5 type 2") }
        return Array(block[(separator + 1)...])
    }
}
