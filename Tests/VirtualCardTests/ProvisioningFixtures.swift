import Foundation
import SwiftASN1
import SmartCardCore
import VirtualCard
@_spi(FixedExpiryValidationTime) import X509

/// Cards shared by the provisioning and store suites: RSA key generation is slow in debug builds, so each card is
/// made once per test process.
enum ProvisioningFixtures {
    static let defaultCard = Result { try CardFactory.makeCard(CardProvisioningOptions()) }

    /// Expired since 2021, salaried holder with O and OU, blocked PIN, a few unblocks left, fixed serial.
    static let expiredOptions = CardProvisioningOptions(
        holder: HolderProfile(
            idNat: "899700366240", givenName: "JEANNE", surname: "DOC0036624", profession: "Infirmier",
            cardType: .cpe, organization: "CENTRE HOSPITALIER DE TEST", organizationalUnit: "999000001"),
        serial: "0123456789",
        notBefore: date("2019-09-10T08:00:00Z"),
        notAfter: date("2021-09-10T08:00:00Z"),
        pinTriesLeft: 0,
        pukTriesLeft: 2,
        unblocksMax: 10,
        unblocksLeft: 4
    )
    static let expiredCard = Result { try CardFactory.makeCard(expiredOptions) }

    static func date(_ text: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: text) else { preconditionFailure("bad date \(text)") }
        return date
    }

    static func certificate(_ der: [UInt8]) throws -> Certificate {
        try Certificate(derEncoded: der)
    }

    /// The shipped trust store root and the card's chain verified under RFC 5280 at `time`.
    static func verify(_ leafDER: [UInt8], chainDER: [[UInt8]], at time: Date) async throws -> CertificateValidationResult {
        let root = try Certificate(pemEncoded: TestPKIMaterial.rootCertificatePEM)
        let intermediates = try chainDER.map(certificate)
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        return await verifier.validate(leaf: try certificate(leafDER), intermediates: CertificateStore(intermediates))
    }

    /// Attribute type → values, over the whole distinguished name.
    static func attributes(_ name: DistinguishedName) -> [ASN1ObjectIdentifier: [String]] {
        var result: [ASN1ObjectIdentifier: [String]] = [:]
        for rdn in name {
            for attribute in rdn {
                result[attribute.type, default: []].append(String(attribute.value) ?? "<non-string>")
            }
        }
        return result
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("cpsd-prov-\(UUID().uuidString)")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}

extension CertificateValidationResult {
    var isValid: Bool {
        if case .validCertificate = self { return true }
        return false
    }
}
