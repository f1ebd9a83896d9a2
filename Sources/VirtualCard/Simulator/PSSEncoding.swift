import Crypto

/// EMSA-PSS encoding (RFC 8017 §9.1.1) as a CPS4 applies it before its private operation (cps4-card.md §7.1):
/// MGF1 with the message's hash, salt length = hash length, trailer BC. The card is given the hash, not the
/// message, so encoding starts at step 4 (mHash = the data of PSO CDS).
enum PSSEncoding {
    /// The encoded message EM for a modulus of `modulusBits` bits; nil when it cannot fit.
    static func encode(
        digest: [UInt8], hash: SecurityEnvironment.HashAlgorithm, modulusBits: Int,
        salt: [UInt8]? = nil
    ) -> [UInt8]? {
        let hashLength = hash.digestLength
        guard digest.count == hashLength else { return nil }
        let emBits = modulusBits - 1
        let emLength = (emBits + 7) / 8
        guard emLength >= 2 * hashLength + 2 else { return nil }
        let salt = salt ?? randomBytes(hashLength)
        let h = Self.hash(hash, [UInt8](repeating: 0, count: 8) + digest + salt)
        let padding = [UInt8](repeating: 0, count: emLength - 2 * hashLength - 2)
        let db = padding + [0x01] + salt
        var maskedDB = zip(db, mgf1(seed: h, length: db.count, hash: hash)).map { $0 ^ $1 }
        // Clear the leftmost 8·emLen − emBits bits so that EM is below the modulus.
        maskedDB[0] &= 0xFF >> UInt8(8 * emLength - emBits)
        let encoded = maskedDB + h + [0xBC]
        // A modulus whose bit length is 1 mod 8 gives an EM one byte shorter than the modulus (RFC 8017 §8.1.1).
        return [UInt8](repeating: 0, count: modulusBits / 8 + (modulusBits % 8 == 0 ? 0 : 1) - encoded.count) + encoded
    }

    /// MGF1 (RFC 8017 B.2.1).
    static func mgf1(seed: [UInt8], length: Int, hash: SecurityEnvironment.HashAlgorithm) -> [UInt8] {
        var output: [UInt8] = []
        var counter: UInt32 = 0
        while output.count < length {
            let c = [
                UInt8(counter >> 24), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF), UInt8(counter & 0xFF),
            ]
            output += Self.hash(hash, seed + c)
            counter += 1
        }
        return Array(output.prefix(length))
    }

    static func hash(_ algorithm: SecurityEnvironment.HashAlgorithm, _ data: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .sha1: Array(Insecure.SHA1.hash(data: data))
        case .sha256: Array(SHA256.hash(data: data))
        }
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
