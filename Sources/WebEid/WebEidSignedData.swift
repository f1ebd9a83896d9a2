import Crypto

/// What a `web-eid:1.0` authentication signs (browser-and-psc.md §2.4): `SHA-256(utf8(origin)) ‖
/// SHA-256(utf8(nonce))`. Each field is hashed first so the concatenation has fixed-length parts (no
/// `example.com` + `.eu1234` vs `example.com.eu` + `1234` ambiguity); the nonce is hashed as the text
/// the server sent, never decoded.
package enum WebEidSignedData {
    /// The 64 bytes an RS256 verifier checks the signature over.
    package static func data(origin: WebOrigin, nonce: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(origin.serialized.utf8))) + Array(SHA256.hash(data: Array(nonce.utf8)))
    }

    /// DER `DigestInfo { sha256, SHA-256(data) }`: what the card's authentication key signs with
    /// CKM_RSA_PKCS semantics (the card adds the PKCS#1 v1.5 type 1 padding), which makes the result an
    /// RS256 signature over ``data(origin:nonce:)``.
    package static func sha256DigestInfo(origin: WebOrigin, nonce: String) -> [UInt8] {
        sha256DigestInfoPrefix + Array(SHA256.hash(data: data(origin: origin, nonce: nonce)))
    }

    /// `SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.1, NULL }, OCTET STRING (32) }` (PKCS#1 v2.2 §9.2 note 1).
    package static let sha256DigestInfoPrefix: [UInt8] = [
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
    ]
}
