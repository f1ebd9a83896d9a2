package import PKCS11Constants
package import SmartCardCore

/// CKM_* values for the card-side mechanism types, and what a token offers: the card driver decides per key
/// (`KeyCapabilities`), PKCS#11 shows the union (C_GetMechanismList) and checks each key (C_SignInit,
/// C_DecryptInit).
extension SignatureMechanism {
    package var ckm: CKM {
        switch self {
        case .rsaPKCS: .rsaPKCS
        case .rsaX509: .rsaX509
        case .sha1RSAPKCS: .sha1RSAPKCS
        case .sha256RSAPKCS: .sha256RSAPKCS
        case .rsaPKCSPSS: .rsaPKCSPSS
        case .sha1RSAPKCSPSS: .sha1RSAPKCSPSS
        case .sha256RSAPKCSPSS: .sha256RSAPKCSPSS
        }
    }

    package init?(_ ckm: CKM) {
        guard let found = Self.allCases.first(where: { $0.ckm == ckm }) else { return nil }
        self = found
    }

    /// C_SignUpdate/C_SignFinal: the hashing mechanisms, and CKM_RSA_PKCS buffered as Cryptolib does
    /// (cryptolib-pkcs11.md §7.2; ANS 624–635 sign in parts). Raw RSA and CKM_RSA_PKCS_PSS take one block.
    package var allowsMultiPart: Bool { messageHash != nil || self == .rsaPKCS }
}

extension DecryptionMechanism {
    package var ckm: CKM {
        switch self {
        case .rsaPKCS: .rsaPKCS
        case .rsaX509: .rsaX509
        }
    }

    package init?(_ ckm: CKM) {
        guard let found = Self.allCases.first(where: { $0.ckm == ckm }) else { return nil }
        self = found
    }
}

extension SignatureHash {
    /// CK_RSA_PKCS_PSS_PARAMS.hashAlg and .mgf for this hash.
    var ckm: CKM { self == .sha1 ? .sha1 : .sha256 }
    var mgf1: UInt { self == .sha1 ? CKG.mgf1SHA1 : CKG.mgf1SHA256 }
}

extension TokenState {
    /// Cryptolib's C_GetMechanismList order (cryptolib-pkcs11.md §7.1), restricted to what some key offers.
    static let mechanismOrder: [CKM] = [
        .rsaX509, .rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS, .rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS,
    ]

    /// The software digests, first in Cryptolib's list on every generation (§7.1).
    static let digestMechanisms: [CKM] = [.sha1, .sha256]

    /// The digests, then every mechanism one of the keys offers, to sign or to decrypt.
    package var mechanisms: [CKM] {
        let offered = Set(privateKeys.flatMap(\.mechanisms))
        return Self.digestMechanisms + Self.mechanismOrder.filter(offered.contains)
    }

    /// C_GetMechanismInfo: CKF_SIGN / CKF_DECRYPT for what some key does with it, the sizes of those keys;
    /// CKF_VERIFY for what some key signs with (verified in software), CKF_ENCRYPT for CKM_RSA_PKCS
    /// (software, with the authentication public key); CKF_DIGEST and no key size for the digests.
    package func mechanismInfo(_ type: CKM) -> MechanismInfo? {
        if Self.digestMechanisms.contains(type) {
            return MechanismInfo(minKeySize: 0, maxKeySize: 0, flags: CKF.digestFlag)
        }
        var flags: UInt = 0
        var bits: [Int] = []
        for key in privateKeys {
            let signs = SignatureMechanism(type).map(key.capabilities.signatures.contains) ?? false
            let decrypts = DecryptionMechanism(type).map(key.capabilities.decryptions.contains) ?? false
            if signs { flags |= CKF.signFlag | CKF.verifyFlag }
            if decrypts { flags |= CKF.decryptFlag }
            if signs || decrypts { bits.append(key.modulusBits) }
        }
        guard let keyMinimum = bits.min(), let maxBits = bits.max() else { return nil }
        let minBits = min(keyMinimum, mechanismMinimumKeyBits ?? keyMinimum)
        if type == .rsaPKCS { flags |= CKF.encryptFlag }
        // CKF_HW for what the card computes whole; a mechanism that hashes on the host first has none, as
        // in Cryptolib's list (§7.1).
        if SignatureMechanism(type)?.messageHash == nil { flags |= CKF.hw }
        return MechanismInfo(minKeySize: UInt(minBits), maxKeySize: UInt(maxBits), flags: flags)
    }
}

extension TokenPrivateKey {
    /// This key's mechanisms (CKA_ALLOWED_MECHANISMS), in the list order.
    package var mechanisms: [CKM] {
        let offered = Set(capabilities.signatures.map(\.ckm)).union(capabilities.decryptions.map(\.ckm))
        return TokenState.mechanismOrder.filter(offered.contains)
    }
}

/// CK_RSA_PKCS_PSS_PARAMS as p11-kit's server hands it over: the C struct itself in pParameter, three
/// CK_ULONGs in native layout (hashAlg, mgf, sLen). The card only makes MGF1 with the message hash and a salt
/// as long as the digest (cps4-card.md §7), so anything else is refused at C_SignInit rather than signed
/// differently from what the caller asked.
package enum PSSParameters {
    /// The hash the parameters name, after checking they describe the one PSS form the card makes.
    package static func hash(
        for mechanism: SignatureMechanism, parameter: [UInt8]?
    ) throws(PKCS11Error) -> SignatureHash {
        let width = MemoryLayout<UInt>.size
        guard let parameter, parameter.count == 3 * width else {
            throw PKCS11Error(.mechanismParamInvalid, "PSS needs a CK_RSA_PKCS_PSS_PARAMS")
        }
        let fields = (0..<3).compactMap { AttributeValue.readULong(Array(parameter[$0 * width..<($0 + 1) * width])) }
        let (hashAlg, mgf, saltLength) = (CKM(rawValue: fields[0]), fields[1], fields[2])
        guard let hash = SignatureHash.allCases.first(where: { $0.ckm == hashAlg }) else {
            throw PKCS11Error(.mechanismParamInvalid, "PSS with SHA-1 or SHA-256 only")
        }
        if let messageHash = mechanism.messageHash, messageHash != hash {
            throw PKCS11Error(.mechanismParamInvalid, "hashAlg differs from the mechanism's hash")
        }
        guard mgf == hash.mgf1, saltLength == UInt(hash.digestLength) else {
            throw PKCS11Error(.mechanismParamInvalid, "the card makes MGF1 of the same hash with sLen = hLen only")
        }
        return hash
    }
}
