import ErrorShape
package import Foundation
package import SmartCardCore
import SwiftASN1
package import X509

/// Who a card belongs to, read from its authentication certificate (IGC-Santé profile,
/// cps3-card.md §14.2): CN = idNat, G, SN, T = profession, O/OU when present.
package struct HolderIdentity: Hashable, Sendable, Codable {
    /// National identifier: the kind digit followed by the identifier, e.g. "899700218896".
    package var idNat: String
    package var idKind: IdentifierKind
    package var givenName: String?
    package var surname: String?
    package var profession: String?
    package var organization: String?
    package var organizationalUnit: String?
    /// From the certificate when it says (cpsd's test PKI does); nil otherwise.
    package var cardType: CPxCardType?
    package var certificate: CertificateSummary

    /// "ROBERT SPECIALISTE0021889", or the idNat when the certificate names nobody.
    package var displayName: String {
        let name = [givenName, surname].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? idNat : name
    }

    /// Reads the identity from a DER certificate.
    package init(certificateDER der: [UInt8]) throws(IdentityError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw IdentityError(.malformedCertificate, "\(error)")
        }
        try self.init(certificate: certificate)
    }

    package init(certificate: Certificate) throws(IdentityError) {
        let attributes = Self.attributes(certificate.subject)
        guard let idNat = attributes[.RDNAttributeType.commonName], !idNat.isEmpty else {
            throw IdentityError(.missingIdentifier, "the certificate subject has no CN (idNat)")
        }
        self.idNat = idNat
        self.idKind = IdentifierKind(idNat: idNat)
        givenName = attributes[HolderOID.givenName]
        surname = attributes[HolderOID.surname]
        profession = attributes[HolderOID.title]
        organization = attributes[.RDNAttributeType.organizationName]
        organizationalUnit = attributes[.RDNAttributeType.organizationalUnitName]
        cardType = Self.cardType(certificate)
        self.certificate = CertificateSummary(certificate)
    }

    private static func attributes(_ name: DistinguishedName) -> [ASN1ObjectIdentifier: String] {
        var values: [ASN1ObjectIdentifier: String] = [:]
        for rdn in name {
            for attribute in rdn where values[attribute.type] == nil {
                values[attribute.type] = String(describing: attribute.value)
            }
        }
        return values
    }

    private static func cardType(_ certificate: Certificate) -> CPxCardType? {
        guard let oid = try? ASN1ObjectIdentifier(elements: CPxCardType.certificateExtensionOID),
            let ext = certificate.extensions[oid: oid],
            let text = try? ASN1UTF8String(derEncoded: ext.value)
        else { return nil }
        return CPxCardType(rawValue: String(text))
    }
}

/// The kind of national identifier, from its first digit (TRE_G08, cps3-card.md §14.3).
package enum IdentifierKind: String, Hashable, Sendable, Codable {
    case adeli = "ADELI"
    case adeliCabinet = "ADELI cabinet"
    case finess = "FINESS"
    case siren = "SIREN"
    case siret = "SIRET"
    case rppsCabinet = "RPPS cabinet"
    case rpps = "RPPS"
    case unknown

    package init(idNat: String) {
        switch idNat.first {
        case "0": self = .adeli
        case "1": self = .adeliCabinet
        case "3": self = .finess
        case "4": self = .siren
        case "5": self = .siret
        case "6": self = .rppsCabinet
        case "8": self = .rpps
        default: self = .unknown
        }
    }
}

/// What a person needs to know about a certificate.
package struct CertificateSummary: Hashable, Sendable, Codable {
    package var subject: String
    package var issuer: String
    package var serialNumber: String
    package var notBefore: Date
    package var notAfter: Date

    package init(_ certificate: Certificate) {
        subject = Self.format(certificate.subject)
        issuer = Self.format(certificate.issuer)
        serialNumber = certificate.serialNumber.description
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
    }

    /// "CN=899700218896, G=ROBERT, SN=…, T=Médecin, C=FR": RFC 4514 order with the short names the
    /// IGC-Santé profile uses (swift-certificates prints G, SN and T as bare OIDs).
    static func format(_ name: DistinguishedName) -> String {
        let short: [ASN1ObjectIdentifier: String] = [
            .RDNAttributeType.commonName: "CN", .RDNAttributeType.countryName: "C",
            .RDNAttributeType.organizationName: "O", .RDNAttributeType.organizationalUnitName: "OU",
            HolderOID.givenName: "G", HolderOID.surname: "SN", HolderOID.title: "T",
        ]
        return name.reversed().flatMap { rdn in
            rdn.map { "\(short[$0.type] ?? String(describing: $0.type))=\(String(describing: $0.value))" }
        }.joined(separator: ", ")
    }

    package func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    /// Whole days until expiry (negative once expired).
    package func daysUntilExpiry(from date: Date) -> Int {
        Int((notAfter.timeIntervalSince(date) / 86_400).rounded(.down))
    }
}

/// X.520 attribute types of the IGC-Santé subject that swift-certificates does not name.
enum HolderOID {
    static let title: ASN1ObjectIdentifier = [2, 5, 4, 12]
    static let surname: ASN1ObjectIdentifier = [2, 5, 4, 4]
    static let givenName: ASN1ObjectIdentifier = [2, 5, 4, 42]
}

package struct IdentityError: CodedError {
    package enum Code: String, ErrorCode {
        case malformedCertificate, missingIdentifier, unreadableTrustStore
    }
    package let code: Code
    package let reason: String
    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
