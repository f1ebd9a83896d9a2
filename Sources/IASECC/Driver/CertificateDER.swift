/// Certificate bytes as stored on a card, made into the DER a verifier accepts.
package enum CertificateDER {
    /// Cuts the EF content to the certificate's own length (EFs are often larger than their content)
    /// and zeroes a non-zero unused-bits byte in the signature BIT STRING, as Cryptolib does for the
    /// cards that carry one (cps3-card.md §4.2). The signature bits themselves are untouched.
    package static func trimmed(_ content: [UInt8]) throws(ASN1Error) -> [UInt8] {
        guard let certificate = try BERElement.sequence(content[...]).first, certificate.tag == BERTag.sequence else {
            throw ASN1Error(.unexpectedTag, "certificate EF does not start with a SEQUENCE")
        }
        var der = Array(certificate.encoded)
        let parts = try certificate.children()
        guard parts.count == 3, parts[2].tag == BERTag.bitString, let unusedIndex = parts[2].value.indices.first else {
            throw ASN1Error(.invalidValue, "not an X.509 certificate (tbs, algorithm, signature)")
        }
        let offset = unusedIndex - certificate.encoded.startIndex
        if der[offset] != 0 { der[offset] = 0 }
        return der
    }
}
