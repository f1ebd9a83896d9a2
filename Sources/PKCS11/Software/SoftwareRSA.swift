import Crypto
import PKCS11Constants
package import SmartCardCore

/// C_Verify's and C_Encrypt's RSA, in software as Cryptolib does them with OpenSSL (cryptolib-pkcs11.md
/// §8.6–8.7): the verdicts are Cryptolib's CKRs, the paddings RFC 8017's.
package enum SoftwareRSA {
    /// Checks `signature` over `data` (the message for the hashing mechanisms, the digest for
    /// CKM_RSA_PKCS_PSS, the signed block for CKM_RSA_PKCS / CKM_RSA_X_509).
    package static func verify(
        _ context: VerifyContext, data: [UInt8], signature: [UInt8]
    ) throws(PKCS11Error) {
        let key = context.key
        if let refusal = context.refusal(ofData: data.count) { throw refusal }
        // A signature is exactly k bytes (ANS 714, 729).
        guard signature.count == key.length else {
            throw PKCS11Error(.signatureLenRange, "a signature is \(key.length) bytes, not \(signature.count)")
        }
        guard let block = key.apply(signature) else { throw PKCS11Error(.signatureInvalid, "s ≥ n") }
        let valid: Bool
        switch context.signature {
        case .rsaX509:
            valid = block == Array(repeating: 0, count: key.length - data.count) + data
        case .rsaPKCS:
            valid = pkcs1Payload(block).map { matches(recovered: $0, data: data) } ?? false
        case .sha1RSAPKCS, .sha256RSAPKCS:
            let hash = context.signature.messageHash ?? .sha256
            valid = pkcs1Payload(block) == hash.digestInfoPrefix + hash.softwareDigest(data)
        case .rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS:
            guard let pss = context.pss else { throw PKCS11Error(.mechanismParamInvalid) }
            let digest = context.signature.messageHash == nil ? data : pss.hash.softwareDigest(data)
            valid = pssVerifies(block: block, digest: digest, pss, modulusBits: key.modulusBits)
        }
        guard valid else { throw PKCS11Error(.signatureInvalid) }
    }

    /// The recovered CKM_RSA_PKCS data matches the caller's, or the caller gave the bare SHA-1/SHA-256 hash
    /// of a DigestInfo the card signed (Cryptolib signs a bare hash as its DigestInfo, §7.2; ANS 734–737
    /// verify those signatures with the same bare hash).
    private static func matches(recovered: [UInt8], data: [UInt8]) -> Bool {
        if recovered == data { return true }
        guard let hash = SignatureHash.allCases.first(where: { $0.digestLength == data.count }) else { return false }
        return recovered == hash.digestInfoPrefix + data
    }

    /// EMSA-PKCS1-v1_5 type 1: 00 01 FF…FF (at least 8) 00 T ⇒ T.
    static func pkcs1Payload(_ block: [UInt8]) -> [UInt8]? {
        guard block.count >= 11, block[0] == 0, block[1] == 1 else { return nil }
        guard let separator = block.dropFirst(2).firstIndex(where: { $0 != 0xFF }), block[separator] == 0,
            separator >= 10
        else { return nil }
        return Array(block[(separator + 1)...])
    }

    /// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with the caller's hash, MGF1 hash and salt length.
    static func pssVerifies(block: [UInt8], digest: [UInt8], _ pss: PSSVerifyParameters, modulusBits: Int) -> Bool {
        let emBits = modulusBits - 1
        let emLength = (emBits + 7) / 8
        let hLen = pss.hash.digestLength
        // k = emLen + 1 when emBits is a multiple of 8: the leading byte is then 0.
        let em = Array(block.suffix(emLength))
        guard block.count - em.count <= 1, block.dropLast(emLength).allSatisfy({ $0 == 0 }) else { return false }
        guard digest.count == hLen, emLength >= hLen + pss.saltLength + 2, em.last == 0xBC else { return false }
        let maskedDB = Array(em[0..<(emLength - hLen - 1)])
        let h = Array(em[(emLength - hLen - 1)..<(emLength - 1)])
        let topMask = UInt8(truncatingIfNeeded: 0xFF >> (8 * emLength - emBits))
        guard maskedDB[0] & ~topMask == 0 else { return false }
        var db = zip(maskedDB, mgf1(seed: h, length: maskedDB.count, hash: pss.mgfHash)).map { $0 ^ $1 }
        db[0] &= topMask
        let padLength = emLength - hLen - pss.saltLength - 2
        guard db[0..<padLength].allSatisfy({ $0 == 0 }), db[padLength] == 1 else { return false }
        let salt = Array(db.suffix(pss.saltLength))
        return pss.hash.softwareDigest(Array(repeating: 0, count: 8) + digest + salt) == h
    }

    static func mgf1(seed: [UInt8], length: Int, hash: SignatureHash) -> [UInt8] {
        var mask: [UInt8] = []
        var counter: UInt32 = 0
        while mask.count < length {
            let c = (0..<4).map { UInt8(truncatingIfNeeded: counter >> (8 * (3 - $0))) }
            mask += hash.softwareDigest(seed + c)
            counter += 1
        }
        return Array(mask.prefix(length))
    }

    /// RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1): 00 02 PS (nonzero random) 00 M, then s = m^e.
    package static func encrypt(_ message: [UInt8], key: RSAPublicOperation) throws(PKCS11Error) -> [UInt8] {
        guard message.count <= key.length - 11 else {
            throw PKCS11Error(.dataLenRange, "CKM_RSA_PKCS encrypts at most k-11 bytes")
        }
        var generator = SystemRandomNumberGenerator()
        let padding = (0..<(key.length - 3 - message.count)).map { _ in UInt8.random(in: 1...255, using: &generator) }
        guard let cryptogram = key.apply([0, 2] + padding + [0] + message) else {
            throw PKCS11Error(.generalError, "the encoded message is not below the modulus")
        }
        return cryptogram
    }
}

extension RSAPublicOperation {
    package var modulusBits: Int { modulus.count * 8 - (modulus.first?.leadingZeroBitCount ?? 0) }
}

extension SignatureHash {
    /// The digest of `data` (swift-crypto).
    package func softwareDigest(_ data: [UInt8]) -> [UInt8] {
        self == .sha1 ? Array(Insecure.SHA1.hash(data: data)) : Array(SHA256.hash(data: data))
    }
}
