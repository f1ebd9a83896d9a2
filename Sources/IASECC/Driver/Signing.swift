package import PartialHash
package import SmartCardCore

extension SignatureHash {
    /// The whole message hashed on the host (CPS4 signs host hashes; cpsctl builds DigestInfos).
    package func digest(of message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1:
            var state = SHA1State()
            state.update(message)
            return state.finalize()
        case .sha256:
            var state = SHA256State()
            state.update(message)
            return state.finalize()
        }
    }

    var hashTemplate: IASAlgorithm { self == .sha1 ? .sha1 : .sha256 }
    var signatureAlgorithm: IASAlgorithm { self == .sha1 ? .sha1WithRSA : .sha256WithRSA }
}

/// Signing and random numbers (cps3-card.md §6). The PIN must have been verified in the same
/// transaction; these functions never verify it themselves.
extension CPS3Driver {
    /// Signs `message` with the signature key 0x81: the host hashes all but the last 1…64 bytes, the card
    /// finishes the hash from the intermediate state (PSO HASH) and signs the DigestInfo (PSO CDS).
    /// APDUs: MSE SET HT, PSO HASH, MSE SET DST, PSO CDS (+ GET RESPONSE).
    package static func signWithSignatureKey(
        _ session: inout CardSession, message: [UInt8], hash: SignatureHash
    ) throws(IASECCError) -> [UInt8] {
        let split = hash == .sha1 ? SHA1State.cryptolibSplit(message) : SHA256State.cryptolibSplit(message)
        return try signWithSignatureKey(&session, split: split, hash: hash)
    }

    /// Signs a message already split for the card (multi-part signing hashes as data arrives).
    package static func signWithSignatureKey(
        _ session: inout CardSession, split: PartialHashSplit, hash: SignatureHash
    ) throws(IASECCError) -> [UInt8] {
        try withApplicationRecovery(&session) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(.mseSetHashTemplate(hash.hashTemplate), "MSE SET HT")
        }
        _ = try session.expectSuccess(
            .psoHash(intermediateState: split.state, bitCount: split.bitCount, tail: split.tail), "PSO HASH")
        _ = try session.expectSuccess(
            .mseSetSignatureTemplate(hash.signatureAlgorithm, key: CPS3.signatureKeyReference), "MSE SET DST")
        return try signature(session.expectSuccess(.psoComputeDigitalSignature(), "PSO CDS"))
    }

    /// Signs a hash computed by the host with the signature key (CKM_RSA_PKCS on CPS_PRIV_SIG, Cryptolib
    /// "Sign_Hash", §6.2): PSO HASH carries the complete hash (`90 L hash`), then DST and PSO CDS.
    package static func signDigestWithSignatureKey(
        _ session: inout CardSession, digest: [UInt8], hash: SignatureHash
    ) throws(IASECCError) -> [UInt8] {
        guard digest.count == hash.digestLength else {
            throw IASECCError(.inputTooLong, "a \(hash.rawValue) digest is \(hash.digestLength) bytes, not \(digest.count)")
        }
        try withApplicationRecovery(&session) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(.mseSetHashTemplate(hash.hashTemplate), "MSE SET HT")
        }
        _ = try session.expectSuccess(.psoHash(completeDigest: digest), "PSO HASH")
        _ = try session.expectSuccess(
            .mseSetSignatureTemplate(hash.signatureAlgorithm, key: CPS3.signatureKeyReference), "MSE SET DST")
        return try signature(session.expectSuccess(.psoComputeDigitalSignature(), "PSO CDS"))
    }

    /// Signs with the authentication key 0x82 through INTERNAL AUTHENTICATE: the card pads `input` (a
    /// DigestInfo, or the 36-byte MD5‖SHA-1 of TLS ≤ 1.1) with PKCS#1 v1.5 type 1. The length limit is
    /// enforced here, before the card sees anything. APDUs: MSE SET AT, INTERNAL AUTHENTICATE (+ GET RESPONSE).
    package static func signWithAuthenticationKey(
        _ session: inout CardSession, input: [UInt8]
    ) throws(IASECCError) -> [UInt8] {
        guard !input.isEmpty, input.count <= CPS3.maxInternalAuthenticateInput else {
            throw IASECCError(
                .inputTooLong,
                "the authentication key signs 1 to \(CPS3.maxInternalAuthenticateInput) bytes, not \(input.count)")
        }
        try withApplicationRecovery(&session) { (session) throws(IASECCError) in
            _ = try session.expectSuccess(
                .mseSetAuthenticationTemplate(key: CPS3.authenticationKeyReference), "MSE SET AT")
        }
        return try signature(session.expectSuccess(.internalAuthenticate(input), "INTERNAL AUTHENTICATE"))
    }

    /// GET CHALLENGE: random bytes from the card's generator.
    package static func getChallenge(_ session: inout CardSession, length: Int = 8) throws(IASECCError) -> [UInt8] {
        let random = try session.expectSuccess(.getChallenge(length: length), "GET CHALLENGE")
        guard random.count == length else {
            throw IASECCError(.malformedCardData, "GET CHALLENGE returned \(random.count) bytes, not \(length)")
        }
        return random
    }

    /// Runs the first command of a key operation; if the card says the application is not current
    /// (6985 after another process selected elsewhere, 6A88/6A82 when the key is not found from the
    /// current DF, 6E00 after another middleware talked CPS2ter with CLA A0), reselects the application
    /// once and runs it again (Cryptolib release note #1722, ANS bug #1359). Never used around a command
    /// carrying a PIN.
    static func withApplicationRecovery(
        _ session: inout CardSession, _ body: (inout CardSession) throws(IASECCError) -> Void
    ) throws(IASECCError) {
        do {
            try body(&session)
        } catch where [.conditionsOfUseNotSatisfied, .referencedDataNotFound, .fileNotFound, .classNotSupported]
            .contains(error.statusWord ?? .success)
        {
            try selectApplication(&session)
            try body(&session)
        }
    }

    private static func signature(_ bytes: [UInt8]) throws(IASECCError) -> [UInt8] {
        guard bytes.count == 256 else {
            throw IASECCError(.malformedCardData, "signature of \(bytes.count) bytes, RSA-2048 gives 256")
        }
        return bytes
    }
}
