import PKCS11Constants
import SwiftASN1

/// The pieces of an X.509 certificate PKCS#11 exposes, cut out of the DER as it is (so CKA_SUBJECT
/// matches byte for byte what other software derives from the same certificate).
package struct CertificateFields: Hashable, Sendable {
    /// The DER Name of the subject and the issuer.
    var subject: [UInt8]
    var issuer: [UInt8]
    /// The DER INTEGER (tag, length, content) of the serial number.
    var serialNumber: [UInt8]
    /// The RSA public key, big-endian without a leading zero byte.
    var modulus: [UInt8]
    var publicExponent: [UInt8]

    /// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
    /// signature, issuer, validity, subject, subjectPublicKeyInfo, … }, … } (RFC 5280 §4.1).
    init(der: [UInt8]) throws {
        let certificate = try DER.parse(der)
        guard case .constructed(let certificateParts) = certificate.content,
            let tbs = Array(certificateParts).first, case .constructed(let tbsParts) = tbs.content
        else { throw ASN1Error.invalidASN1Object(reason: "not a certificate") }
        var fields = Array(tbsParts)
        if fields.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            fields.removeFirst()
        }
        guard fields.count >= 6 else { throw ASN1Error.invalidASN1Object(reason: "short TBSCertificate") }
        serialNumber = Array(fields[0].encodedBytes)
        issuer = Array(fields[2].encodedBytes)
        subject = Array(fields[4].encodedBytes)
        (modulus, publicExponent) = try Self.rsaPublicKey(subjectPublicKeyInfo: fields[5])
    }

    /// The size in bits of the RSA modulus of a DER certificate, or nil when it is not one. This is what
    /// a signature's length is taken from: the key directory on the card (PrKDF) only declares a size,
    /// and a card that declares less than its key signs would otherwise overrun a caller's buffer.
    package static func modulusBits(ofCertificate der: [UInt8]) -> Int? {
        guard let modulus = try? CertificateFields(der: der).modulus, let first = modulus.first, first != 0 else {
            return nil
        }
        return modulus.count * 8 - first.leadingZeroBitCount
    }

    /// SubjectPublicKeyInfo ::= SEQUENCE { algorithm, BIT STRING { RSAPublicKey ::= SEQUENCE { n, e } } }.
    private static func rsaPublicKey(subjectPublicKeyInfo: ASN1Node) throws -> ([UInt8], [UInt8]) {
        guard case .constructed(let parts) = subjectPublicKeyInfo.content, Array(parts).count == 2,
            case .primitive(let bitString) = Array(parts)[1].content, bitString.first == 0
        else { throw ASN1Error.invalidASN1Object(reason: "not a SubjectPublicKeyInfo") }
        let key = try DER.parse(Array(bitString.dropFirst()))
        guard case .constructed(let integers) = key.content, Array(integers).count == 2,
            case .primitive(let modulus) = Array(integers)[0].content,
            case .primitive(let exponent) = Array(integers)[1].content
        else { throw ASN1Error.invalidASN1Object(reason: "not an RSAPublicKey") }
        return (stripped(modulus), stripped(exponent))
    }

    private static func stripped(_ integer: ArraySlice<UInt8>) -> [UInt8] {
        var bytes = integer
        while bytes.count > 1, bytes.first == 0 { bytes.removeFirst() }
        return Array(bytes)
    }
}
