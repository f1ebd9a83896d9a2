import Foundation
import SwiftASN1
import Testing
import SmartCardCore
import VirtualCard
import X509

@Suite("Test PKI material")
struct ProvisioningTestPKITests {
    @Test("the shipped trust store files equal TestPKIMaterial", arguments: [
        ("TEST-AC-RACINE-IGC-SANTE-FORT.pem", TestPKIMaterial.rootCertificatePEM),
        ("TEST-AC-IGC-SANTE-FORT-PERSONNES.pem", TestPKIMaterial.intermediateCertificatePEM),
    ])
    func shippedFiles(name: String, constant: String) throws {
        let url = ProvisioningFixtures.repositoryRoot.appendingPathComponent("Packaging/trust/test/\(name)")
        let shipped = try String(contentsOf: url, encoding: .utf8)
        #expect(shipped.trimmingCharacters(in: .whitespacesAndNewlines) == constant)
    }

    @Test("the root and intermediate look like IGC-Santé TEST FORT")
    func shape() throws {
        let authority = try TestCertificateAuthority()
        let root = authority.root
        let intermediate = authority.intermediate
        #expect(root.subject == root.issuer)
        #expect(intermediate.issuer == root.subject)
        #expect(ProvisioningFixtures.attributes(root.subject)[.RDNAttributeType.commonName]
            == ["TEST AC RACINE IGC-SANTE FORT"])
        #expect(ProvisioningFixtures.attributes(intermediate.subject)[.RDNAttributeType.commonName]
            == ["TEST AC IGC-SANTE FORT PERSONNES"])
        for certificate in [root, intermediate] {
            let attributes = ProvisioningFixtures.attributes(certificate.subject)
            #expect(attributes[.RDNAttributeType.countryName] == ["FR"])
            #expect(attributes[.RDNAttributeType.organizationName] == ["ASIP-SANTE"])
            #expect(attributes[.RDNAttributeType.organizationalUnitName] == ["0002 187512751", "IGC-SANTE TEST"])
            #expect(certificate.signatureAlgorithm == .sha256WithRSAEncryption)
            #expect(certificate.notValidBefore == ProvisioningFixtures.date("2013-06-25T00:00:00Z"))
            #expect(certificate.notValidAfter == ProvisioningFixtures.date("2033-06-25T00:00:00Z"))
            #expect(try certificate.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        }
        #expect(try root.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(try intermediate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(root.publicKey.isValidSignature(intermediate.signature, for: intermediate))
    }
}

@Suite("Provisioning option validation")
struct ProvisioningValidationTests {
    static func options(_ change: (inout CardProvisioningOptions) -> Void) -> CardProvisioningOptions {
        var options = CardProvisioningOptions()
        change(&options)
        return options
    }

    static func holder(idNat: String = "899700218896", surname: String = "DOC") -> HolderProfile {
        HolderProfile(idNat: idNat, givenName: "A", surname: surname, profession: "Médecin", cardType: .cps)
    }

    static let cases: [(String, CardProvisioningOptions, CardProvisioningError.Code)] = [
        ("PIN too short", options { $0.pin = Array("123".utf8) }, .invalidPIN),
        ("PIN too long", options { $0.pin = Array("12345".utf8) }, .invalidPIN),
        ("PIN not digits", options { $0.pin = Array("12a4".utf8) }, .invalidPIN),
        ("PUK of 4 digits", options { $0.puk = Array("1234".utf8) }, .invalidPUK),
        ("PUK not ASCII", options { $0.puk = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0xB9] }, .invalidPUK),
        ("serial of 9 digits", options { $0.serial = "123456789" }, .invalidSerial),
        ("serial with a letter", options { $0.serial = "12345678X0" }, .invalidSerial),
        ("idNat with a letter", options { $0.holder = holder(idNat: "8997002188A6") }, .invalidIdNat),
        ("empty idNat", options { $0.holder = holder(idNat: "") }, .invalidIdNat),
        ("Unicode digits in idNat", options { $0.holder = holder(idNat: "٨٩٩") }, .invalidIdNat),
        ("empty surname", options { $0.holder = holder(surname: "") }, .invalidHolder),
        ("PIN tries 4", options { $0.pinTriesLeft = 4 }, .invalidTryCounter),
        ("PUK tries -1", options { $0.pukTriesLeft = -1 }, .invalidTryCounter),
        ("negative unblocksMax", options { $0.unblocksMax = -1 }, .invalidUnblockCounter),
        ("unblocksLeft above max", options { $0.unblocksLeft = 11 }, .invalidUnblockCounter),
        ("notBefore equals notAfter", options {
            $0.notBefore = Date(timeIntervalSince1970: 1_600_000_000)
            $0.notAfter = Date(timeIntervalSince1970: 1_600_000_000)
        }, .invalidValidity),
        ("notAfter before the default notBefore", options {
            $0.notAfter = Date(timeIntervalSinceNow: -2 * 24 * 3600)
        }, .invalidValidity),
    ]

    @Test("invalid options are rejected before any key is generated", arguments: cases)
    func rejected(name: String, options: CardProvisioningOptions, code: CardProvisioningError.Code) {
        let error = #expect(throws: CardProvisioningError.self, "\(name)") { try CardFactory.makeCard(options) }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
    }

    @Test("boundary values are accepted")
    func accepted() throws {
        let options = Self.options {
            $0.pinTriesLeft = 0
            $0.pukTriesLeft = 0
            $0.unblocksMax = 0
            $0.unblocksLeft = 0
            $0.serial = "0000000000"
            $0.notAfter = Date(timeIntervalSinceNow: 60)
        }
        try options.validate()
        let window = options.validity(now: Date())
        #expect(window.notBefore < window.notAfter)
    }
}
