import _CryptoExtras
import Crypto
import Foundation
import SwiftASN1
import Testing
import SmartCardCore
import VirtualCard
import X509

@Suite("Card provisioning")
struct ProvisioningTests {
    @Test("a card from the defaults is usable")
    func defaults() throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        #expect(card.formatVersion == CardState.currentFormatVersion)
        #expect(card.serial.count == 10 && card.serial.allSatisfy(\.isASCII) && card.serial.allSatisfy(\.isNumber))
        #expect(card.holder == .testDefault)
        #expect(card.pin == Credential(value: Array("1234".utf8), maxTries: 3, triesLeft: 3))
        #expect(card.puk == Credential(value: Array("12345678".utf8), maxTries: 3, triesLeft: 3))
        #expect(card.unblocksMax == 10 && card.unblocksLeft == 10)
        #expect(card.caChainDER.count == 2)
        let certificate = try ProvisioningFixtures.certificate(card.authenticationCertificateDER)
        let now = Date()
        #expect(abs(certificate.notValidBefore.timeIntervalSince(now - 24 * 3600)) < 120)
        #expect(abs(certificate.notValidAfter.timeIntervalSince(now + 3 * 365 * 24 * 3600)) < 120)
    }

    @Test("both certificates chain to the shipped root now")
    func chainVerifies() async throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        for leaf in [card.authenticationCertificateDER, card.signatureCertificateDER] {
            let result = try await ProvisioningFixtures.verify(leaf, chainDER: card.caChainDER, at: Date())
            #expect(result.isValid, "\(result)")
        }
        let authority = try TestCertificateAuthority()
        #expect(try card.caChainDER == [authority.intermediate, authority.root].map(TestCertificateAuthority.der))
    }

    @Test("the subject is C=FR, T, SN, G, CN=idNat, issued by the FORT PERSONNES intermediate")
    func subject() throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        let certificate = try ProvisioningFixtures.certificate(card.signatureCertificateDER)
        let attributes = ProvisioningFixtures.attributes(certificate.subject)
        #expect(attributes[.RDNAttributeType.commonName] == ["899700218896"])
        #expect(attributes[HolderAttribute.givenName] == ["ROBERT"])
        #expect(attributes[HolderAttribute.surname] == ["SPECIALISTE0021889"])
        #expect(attributes[HolderAttribute.title] == ["Médecin"])
        #expect(attributes[.RDNAttributeType.countryName] == ["FR"])
        #expect(attributes[.RDNAttributeType.organizationName] == nil)
        #expect(attributes[.RDNAttributeType.organizationalUnitName] == nil)
        #expect(attributes.count == 5)
        let issuer = ProvisioningFixtures.attributes(certificate.issuer)
        #expect(issuer[.RDNAttributeType.commonName] == ["TEST AC IGC-SANTE FORT PERSONNES"])
        #expect(issuer[.RDNAttributeType.organizationalUnitName] == ["0002 187512751", "IGC-SANTE TEST"])
    }

    @Test("O and OU appear when the holder has them")
    func organization() throws {
        let card = try ProvisioningFixtures.expiredCard.get()
        let certificate = try ProvisioningFixtures.certificate(card.authenticationCertificateDER)
        let attributes = ProvisioningFixtures.attributes(certificate.subject)
        #expect(attributes[.RDNAttributeType.organizationName] == ["CENTRE HOSPITALIER DE TEST"])
        #expect(attributes[.RDNAttributeType.organizationalUnitName] == ["999000001"])
        #expect(attributes[.RDNAttributeType.commonName] == ["899700366240"])
        #expect(card.holder.cardType == .cpe)
    }

    @Test("options are carried into the card state")
    func optionsCarried() throws {
        let card = try ProvisioningFixtures.expiredCard.get()
        #expect(card.serial == "0123456789")
        #expect(card.pin.triesLeft == 0 && card.pin.isBlocked)
        #expect(card.puk.triesLeft == 2 && card.puk.maxTries == 3)
        #expect(card.unblocksLeft == 4 && card.unblocksMax == 10)
    }

    @Test("an expired card fails verification now and passes inside its validity")
    func expired() async throws {
        let card = try ProvisioningFixtures.expiredCard.get()
        let certificate = try ProvisioningFixtures.certificate(card.signatureCertificateDER)
        #expect(certificate.notValidBefore == ProvisioningFixtures.date("2019-09-10T08:00:00Z"))
        #expect(certificate.notValidAfter == ProvisioningFixtures.date("2021-09-10T08:00:00Z"))
        for leaf in [card.authenticationCertificateDER, card.signatureCertificateDER] {
            let now = try await ProvisioningFixtures.verify(leaf, chainDER: card.caChainDER, at: Date())
            #expect(!now.isValid)
            let inside = ProvisioningFixtures.date("2020-06-01T00:00:00Z")
            let then = try await ProvisioningFixtures.verify(leaf, chainDER: card.caChainDER, at: inside)
            #expect(then.isValid, "\(then)")
        }
    }

    @Test("each certificate holds the public half of its private key")
    func keysMatchCertificates() throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        let pairs = [
            (card.authenticationKeyDER, card.authenticationCertificateDER),
            (card.signatureKeyDER, card.signatureCertificateDER),
        ]
        let digest = SHA256.hash(data: Array("cpsd provisioning".utf8))
        for (keyDER, certificateDER) in pairs {
            let key = try _RSA.Signing.PrivateKey(derRepresentation: keyDER)
            #expect(key.keySizeInBits == 2048)
            let certificate = try ProvisioningFixtures.certificate(certificateDER)
            let publicKey = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
            let signature = try key.signature(for: digest, padding: .insecurePKCS1v1_5)
            #expect(publicKey.isValidSignature(signature, for: digest, padding: .insecurePKCS1v1_5))
            #expect(publicKey.derRepresentation == key.publicKey.derRepresentation)
        }
        #expect(card.authenticationKeyDER != card.signatureKeyDER)
    }

    @Test("key usages: authentication signs and deciphers for TLS clients, signature is nonRepudiation only")
    func extensions() throws {
        let card = try ProvisioningFixtures.defaultCard.get()
        let auth = try ProvisioningFixtures.certificate(card.authenticationCertificateDER)
        let sig = try ProvisioningFixtures.certificate(card.signatureCertificateDER)
        #expect(auth.signatureAlgorithm == .sha256WithRSAEncryption)
        #expect(try auth.extensions.keyUsage == KeyUsage(digitalSignature: true, keyEncipherment: true))
        #expect(try auth.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth, .emailProtection]))
        #expect(try sig.extensions.keyUsage == KeyUsage(nonRepudiation: true))
        #expect(try sig.extensions.extendedKeyUsage == nil)
        let intermediate = try TestCertificateAuthority().intermediate
        let issuerKeyID = try #require(try intermediate.extensions.subjectKeyIdentifier?.keyIdentifier)
        for certificate in [auth, sig] {
            #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
            #expect(try certificate.extensions.authorityKeyIdentifier?.keyIdentifier == issuerKeyID)
            #expect(try certificate.extensions.subjectKeyIdentifier == SubjectKeyIdentifier(hash: certificate.publicKey))
            #expect(certificate.serialNumber.bytes.count == 16 && (certificate.serialNumber.bytes.first ?? 0xFF) & 0x80 == 0)
        }
        #expect(auth.serialNumber != sig.serialNumber)
    }
}
