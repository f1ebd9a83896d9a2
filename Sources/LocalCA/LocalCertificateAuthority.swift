import ErrorShape
import Crypto
package import Foundation
import SwiftASN1
package import X509

/// The bridge's TLS identity: a certificate for `localhost`, `127.0.0.1` and `::1`, issued by a CA made
/// for this install alone (browser-and-psc.md §4.3).
///
/// Why a CA at all: browsers trust a root, not a leaf, and `cpsctl setup` has to add something to their
/// NSS databases. Why it cannot hurt: the CA is name-constrained to the loopback names, so even a stolen
/// CA could not vouch for any real site; and its private key only ever lives in memory while the one
/// leaf is signed, then it is released (BoringSSL clears key memory when it frees it). No two installs
/// share a key, unlike the localhost certificates that public CAs had to revoke.
package enum LocalCertificateAuthority {
    /// The only names the CA may vouch for and the leaf carries.
    package static let dnsNames = ["localhost"]
    package static let ipAddresses: [[UInt8]] = [[127, 0, 0, 1], Array(repeating: 0, count: 15) + [1]]

    /// Makes a fresh CA, issues the leaf, and lets the CA key go. `lifetime` applies to both: with the CA
    /// key gone the leaf cannot be renewed, so expiry means a new CA (and `cpsctl setup` again).
    package static func issue(
        commonName: String, now: Date = Date(), lifetime: TimeInterval = 10 * 365 * 86_400
    ) throws(LocalCAError) -> LocalServerIdentity {
        do {
            let notBefore = now.addingTimeInterval(-300)  // tolerate a clock a few minutes behind
            let notAfter = now.addingTimeInterval(lifetime)
            let caKey = P256.Signing.PrivateKey()
            let caName = try DistinguishedName {
                OrganizationName("cpsd local bridge")
                CommonName("\(commonName) CA (this computer only)")
            }
            let caPublicKey = Certificate.PublicKey(caKey.publicKey)
            let caCertificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: caPublicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    Critical(nameConstraints)
                    SubjectKeyIdentifier(hash: caPublicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))
            let leafKey = P256.Signing.PrivateKey()
            let leafPublicKey = Certificate.PublicKey(leafKey.publicKey)
            let leaf = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafPublicKey,
                notValidBefore: notBefore, notValidAfter: notAfter.addingTimeInterval(-60), issuer: caName,
                subject: try DistinguishedName { CommonName(commonName) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(
                        dnsNames.map { .dnsName($0) } + ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) })
                    AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caPublicKey).keyIdentifier)
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))
            return LocalServerIdentity(
                caCertificate: caCertificate, certificate: leaf, privateKeyPEM: leafKey.pemRepresentation)
        } catch {
            throw LocalCAError(.issuance, "cannot issue the local certificate: \(error)")
        }
    }

    /// Permits exactly localhost (and names under it), 127.0.0.1/32 and ::1/128.
    static var nameConstraints: NameConstraints {
        let ranges = ipAddresses.map { address in
            ASN1OctetString(contentBytes: (address + Array(repeating: 0xFF, count: address.count))[...])
        }
        return NameConstraints(permittedDNSDomains: dnsNames, permittedIPRanges: ranges)
    }
}

/// A leaf certificate, its private key, and the CA that issued it (the CA's key is gone).
package struct LocalServerIdentity: Sendable {
    package var caCertificate: Certificate
    package var certificate: Certificate
    package var privateKeyPEM: String

    package var caCertificatePEM: String { get throws { try caCertificate.serializeAsPEM().pemString } }
    package var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
}

/// Why the local CA could not issue or store the bridge's certificate.
/// The shape of SmartCardCore's `CodedError`, written out: this target does not depend on SmartCardCore.
package struct LocalCAError: CodedError {
    package enum Code: String, ErrorCode {
        case issuance
        case storage
    }

    package let code: Code
    package let reason: String
    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }
}
