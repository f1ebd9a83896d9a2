package import Foundation
package import _CryptoExtras
package import SwiftASN1
package import X509
import SmartCardCore

/// The cpsd test PKI, parsed from ``TestPKIMaterial``: the root, and the intermediate that issues card certificates.
package struct TestCertificateAuthority: Sendable {
    package let root: Certificate
    package let intermediate: Certificate
    private let intermediateKey: _RSA.Signing.PrivateKey

    /// Parses the committed material.
    package init() throws(CardProvisioningError) {
        do {
            root = try Certificate(pemEncoded: TestPKIMaterial.rootCertificatePEM)
            intermediate = try Certificate(pemEncoded: TestPKIMaterial.intermediateCertificatePEM)
            intermediateKey = try _RSA.Signing.PrivateKey(pemRepresentation: TestPKIMaterial.intermediatePrivateKeyPEM)
        } catch {
            throw CardProvisioningError(.invalidTestPKI, "cannot parse TestPKIMaterial: \(error)")
        }
    }

    /// DER of the issuing chain as stored in ``CardState/caChainDER``: intermediate first, then the root.
    package func chainDER() throws -> [[UInt8]] {
        [try Self.der(intermediate), try Self.der(root)]
    }

    package static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// What a card certificate is for; decides its key usages.
    package enum Usage: Sendable {
        /// Key 0x82 (CPS_PRIV_AUT): TLS client authentication, decipherment.
        case authentication
        /// Key 0x81 (CPS_PRIV_SIG): qualified-style signature, nonRepudiation only.
        case signature
    }

    /// Issues an end-entity certificate for `publicKey`, signed by the intermediate with sha256WithRSAEncryption.
    package func issue(
        usage: Usage, publicKey: _RSA.Signing.PublicKey, holder: HolderProfile, notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        let subjectKey = Certificate.PublicKey(publicKey)
        return try Certificate(
            version: .v3,
            serialNumber: Self.randomSerialNumber(),
            publicKey: subjectKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: intermediate.subject,
            subject: try Self.subject(for: holder),
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try extensions(usage: usage, subjectKey: subjectKey, cardType: holder.cardType),
            issuerPrivateKey: Certificate.PrivateKey(intermediateKey)
        )
    }

    private func extensions(
        usage: Usage, subjectKey: Certificate.PublicKey, cardType: CardType
    ) throws -> Certificate.Extensions {
        let authorityKeyID =
            (try intermediate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: intermediate.publicKey).keyIdentifier
        let basic = Critical(BasicConstraints.notCertificateAuthority)
        let aki = AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
        let ski = SubjectKeyIdentifier(hash: subjectKey)
        switch usage {
        case .authentication:
            return try Certificate.Extensions {
                basic
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.clientAuth, .emailProtection])
                aki
                ski
                try Self.cardTypeExtension(cardType)
            }
        case .signature:
            return try Certificate.Extensions {
                basic
                Critical(KeyUsage(nonRepudiation: true))
                aki
                ski
                try Self.cardTypeExtension(cardType)
            }
        }
    }

    /// The card type as cpsd's test PKI records it (see ``CPxCardType/certificateExtensionOID``).
    static func cardTypeExtension(_ cardType: CardType) throws -> Certificate.Extension {
        var serializer = DER.Serializer()
        try serializer.serialize(ASN1UTF8String(cardType.rawValue))
        let oid = try ASN1ObjectIdentifier(elements: CPxCardType.certificateExtensionOID)
        return Certificate.Extension(oid: oid, critical: false, value: serializer.serializedBytes[...])
    }

    /// The subject of a card certificate (reference §14.2), most significant RDN first:
    /// `C=FR`, then `O` and `OU` when the holder has them, `T` (profession), `SN`, `G`, and `CN` = idNat.
    ///
    /// The card type (CPS, CPE, …) is not in the subject: no attribute is known to carry it on real cards, which
    /// keep it in their CPS2ter business data (reference §1, §10); the test PKI puts it in an extension instead.
    package static func subject(for holder: HolderProfile) throws -> DistinguishedName {
        typealias Attribute = RelativeDistinguishedName.Attribute
        var rdns = [RelativeDistinguishedName(try Attribute(type: .RDNAttributeType.countryName, printableString: "FR"))]
        if let organization = holder.organization {
            rdns.append(.init(Attribute(type: .RDNAttributeType.organizationName, utf8String: organization)))
        }
        if let unit = holder.organizationalUnit {
            rdns.append(.init(Attribute(type: .RDNAttributeType.organizationalUnitName, utf8String: unit)))
        }
        rdns.append(.init(Attribute(type: HolderAttribute.title, utf8String: holder.profession)))
        rdns.append(.init(Attribute(type: HolderAttribute.surname, utf8String: holder.surname)))
        rdns.append(.init(Attribute(type: HolderAttribute.givenName, utf8String: holder.givenName)))
        rdns.append(.init(Attribute(type: .RDNAttributeType.commonName, utf8String: holder.idNat)))
        return DistinguishedName(rdns)
    }

    /// 16 random bytes, the first forced into 0x40...0x7F so the DER INTEGER is positive and 16 bytes long.
    private static func randomSerialNumber() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[0] = (bytes[0] & 0x3F) | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }
}

/// X.520 attribute types of a card certificate subject that swift-certificates does not name.
package enum HolderAttribute {
    /// `T`, the profession label.
    package static let title: ASN1ObjectIdentifier = [2, 5, 4, 12]
    /// `SN`
    package static let surname: ASN1ObjectIdentifier = [2, 5, 4, 4]
    /// `G`
    package static let givenName: ASN1ObjectIdentifier = [2, 5, 4, 42]
}
