/// What a card's private keys can be asked to do, in terms every layer shares: the PKCS#11 token
/// (which maps CKM_* values onto these), the daemon (which only passes them on) and the card drivers
/// (which alone decide, per card generation, which key, which command and who hashes).

/// Which card key: CPS_PRIV_AUT (authentication, TLS, decryption) or CPS_PRIV_SIG (non-repudiation).
package enum KeyRole: String, Sendable, Hashable, Codable, CaseIterable {
    case authentication
    case signature
}

/// The hash functions CPx cards sign with (cps3-card.md §6, cps4-card.md §7).
package enum SignatureHash: String, Sendable, Hashable, CaseIterable {
    case sha1 = "SHA-1"
    case sha256 = "SHA-256"

    package var digestLength: Int { self == .sha1 ? 20 : 32 }

    /// The DER DigestInfo prefix (PKCS#1 v2.2 §9.2 note 1) that precedes the digest.
    package var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha1: [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14]
        case .sha256:
            [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        }
    }

    /// Recognises a DigestInfo for SHA-1 or SHA-256 and splits it into algorithm and digest.
    package static func parseDigestInfo(_ bytes: [UInt8]) -> (SignatureHash, [UInt8])? {
        for hash in allCases where bytes.count == hash.digestInfoPrefix.count + hash.digestLength
            && bytes.starts(with: hash.digestInfoPrefix)
        {
            return (hash, Array(bytes.dropFirst(hash.digestInfoPrefix.count)))
        }
        return nil
    }

    /// The hash whose digest is `length` bytes long (how Cryptolib picks the algorithm of a bare hash).
    package init?(digestLength length: Int) {
        guard let hash = Self.allCases.first(where: { $0.digestLength == length }) else { return nil }
        self = hash
    }
}

/// A signature mechanism, as PKCS#11 names them (CKM_*). What each key offers depends on the card
/// generation: the card driver says (`KeyCapabilities`).
package enum SignatureMechanism: String, Sendable, Hashable, CaseIterable {
    /// CKM_RSA_PKCS: PKCS#1 v1.5 type-1 padding of the caller's input (a DigestInfo, a bare digest on the
    /// signature key, or TLS ≤ 1.1's MD5‖SHA-1 on the authentication key).
    case rsaPKCS
    /// CKM_RSA_X_509: raw RSA of the input, left-padded with zeros to the modulus length.
    case rsaX509
    /// CKM_SHA1_RSA_PKCS / CKM_SHA256_RSA_PKCS: hash the message, then PKCS#1 v1.5.
    case sha1RSAPKCS
    case sha256RSAPKCS
    /// CKM_RSA_PKCS_PSS: the input is a digest of the hash named in the parameters; EMSA-PSS with
    /// MGF1 of the same hash and a salt as long as the digest (the only form CPS4 makes).
    case rsaPKCSPSS
    /// CKM_SHA1_RSA_PKCS_PSS / CKM_SHA256_RSA_PKCS_PSS: hash the message, then EMSA-PSS as above.
    case sha1RSAPKCSPSS
    case sha256RSAPKCSPSS

    /// The hash a hashing mechanism applies to the message (nil for those that take prepared input).
    package var messageHash: SignatureHash? {
        switch self {
        case .sha1RSAPKCS, .sha1RSAPKCSPSS: .sha1
        case .sha256RSAPKCS, .sha256RSAPKCSPSS: .sha256
        case .rsaPKCS, .rsaX509, .rsaPKCSPSS: nil
        }
    }

    package var isPSS: Bool { [.rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS].contains(self) }
}

/// A decryption mechanism (CKM_RSA_PKCS removes the type-2 padding; CKM_RSA_X_509 returns raw RSA).
package enum DecryptionMechanism: String, Sendable, Hashable, CaseIterable {
    case rsaPKCS
    case rsaX509
}

/// What one key can do on this card generation.
package struct KeyCapabilities: Sendable, Hashable {
    package var signatures: Set<SignatureMechanism>
    package var decryptions: Set<DecryptionMechanism>

    package init(signatures: Set<SignatureMechanism>, decryptions: Set<DecryptionMechanism> = []) {
        self.signatures = signatures
        self.decryptions = decryptions
    }
}

/// One signature to make.
package struct SignatureRequest: Sendable, Hashable {
    package var role: KeyRole
    package var mechanism: SignatureMechanism
    /// For CKM_RSA_PKCS_PSS: the hash the caller computed `data` with (from CK_RSA_PKCS_PSS_PARAMS).
    /// For the hashing PSS mechanisms it equals `mechanism.messageHash`.
    package var pssHash: SignatureHash?
    /// The message (hashing mechanisms) or the prepared input (the others).
    package var data: [UInt8]

    package init(role: KeyRole, mechanism: SignatureMechanism, pssHash: SignatureHash? = nil, data: [UInt8]) {
        self.role = role
        self.mechanism = mechanism
        self.pssHash = pssHash ?? (mechanism.isPSS ? mechanism.messageHash : nil)
        self.data = data
    }
}

extension SignatureRequest {
    /// CKM_RSA_PKCS with `role`'s key: the most common request (TLS, Web eID, DigestInfo signatures).
    package static func rsaPKCS(role: KeyRole, input: [UInt8]) -> SignatureRequest {
        SignatureRequest(role: role, mechanism: .rsaPKCS, data: input)
    }
}

/// One decryption to make, always with the authentication key (the only one with decrypt usage).
package struct DecryptionRequest: Sendable, Hashable {
    package var role: KeyRole
    package var mechanism: DecryptionMechanism
    /// The cryptogram, exactly the modulus length.
    package var cryptogram: [UInt8]

    package init(role: KeyRole, mechanism: DecryptionMechanism, cryptogram: [UInt8]) {
        self.role = role
        self.mechanism = mechanism
        self.cryptogram = cryptogram
    }
}
