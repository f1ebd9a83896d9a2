import Crypto
import _CryptoExtras

/// The card's two RSA private keys and the raw private operation they offer (reference
/// `cps3-card.md` §4.2): key 0x81 signs with PSO CDS, key 0x82 authenticates with INTERNAL AUTHENTICATE.
///
/// The raw operation m^d mod n comes from `_RSA.BlindSigning.PrivateKey.blindSignature(for:)`, which
/// takes a modulus-sized message and applies no padding; the card does its own PKCS#1 v1.5 padding.
struct CardKeys {
    private let signature: _RSA.BlindSigning.PrivateKey<SHA384>?
    private let authentication: _RSA.BlindSigning.PrivateKey<SHA384>?

    init(state: CardState) {
        signature = try? _RSA.BlindSigning.PrivateKey<SHA384>(derRepresentation: state.signatureKeyDER)
        authentication = try? _RSA.BlindSigning.PrivateKey<SHA384>(derRepresentation: state.authenticationKeyDER)
    }

    enum Key {
        case signature
        case authentication
    }

    /// RSASSA-PKCS1-v1_5 type-1 padding of `data` followed by the private operation; nil when the key
    /// is missing or the data does not fit (RFC 8017 §9.2 step 3, §8.2.1).
    func sign(padded data: [UInt8], with key: Key) -> [UInt8]? {
        guard let privateKey = key == .signature ? signature : authentication else { return nil }
        let modulusLength = privateKey.keySizeInBits / 8
        guard data.count + 11 <= modulusLength else { return nil }
        let block = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: modulusLength - data.count - 3) + [0x00] + data
        guard let result = try? privateKey.blindSignature(for: block) else { return nil }
        return Array(result.rawRepresentation)
    }

    /// The raw private operation m^d mod n on a modulus-sized block (no padding, no unpadding): CPS4's PSO
    /// DECIPHER (cps4-card.md §7.1) and the last step of its signatures. nil when the key is missing, the
    /// length is not the modulus' or the block is not below the modulus.
    func privateOperation(_ block: [UInt8], with key: Key) -> [UInt8]? {
        guard let privateKey = key == .signature ? signature : authentication,
            block.count == privateKey.keySizeInBits / 8,
            let result = try? privateKey.blindSignature(for: block)
        else { return nil }
        return Array(result.rawRepresentation)
    }

    /// PSO DECIPHER with the authentication key (cps4-card.md §11.3): the raw private operation on a
    /// modulus-sized cryptogram, then the card removes the PKCS#1 v1.5 type-2 padding (RFC 8017 §7.2.2).
    /// nil when the key is missing, the length is not the modulus' or the padding is wrong.
    func decipher(_ cryptogram: [UInt8], with key: Key) -> [UInt8]? {
        guard let privateKey = key == .signature ? signature : authentication,
            cryptogram.count == privateKey.keySizeInBits / 8,
            let result = try? privateKey.blindSignature(for: cryptogram)
        else { return nil }
        let block = Array(result.rawRepresentation)
        guard block.count >= 11, block[0] == 0x00, block[1] == 0x02,
            let separator = block.dropFirst(2).firstIndex(of: 0x00), separator >= 10
        else { return nil }
        return Array(block[(separator + 1)...])
    }

    /// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
    static func digestInfo(_ algorithm: SecurityEnvironment.HashAlgorithm, _ digest: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .sha1:
            [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14] + digest
        case .sha256:
            [
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                0x04, 0x20,
            ] + digest
        }
    }
}
