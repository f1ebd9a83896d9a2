import CardIdentity
import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard
import SwiftASN1
import X509

@Suite("Holder identity from the authentication certificate")
struct HolderIdentityTests {
    @Test("the PSC test identity: RPPS idNat, names, profession, card type, validity")
    func defaultCard() throws {
        let identity = try HolderIdentity(certificateDER: TestCards.defaultState.authenticationCertificateDER)
        #expect(identity.idNat == "899700218896")
        #expect(identity.idKind == .rpps)
        #expect(identity.givenName == "ROBERT" && identity.surname == "SPECIALISTE0021889")
        #expect(identity.profession == "Médecin")
        #expect(identity.cardType == .cps)
        #expect(identity.displayName == "ROBERT SPECIALISTE0021889")
        #expect(identity.certificate.subject == "CN=899700218896, G=ROBERT, SN=SPECIALISTE0021889, T=Médecin, C=FR")
        #expect(identity.certificate.issuer.hasPrefix("CN=TEST AC IGC-SANTE FORT PERSONNES"))
        #expect(identity.certificate.isValid(at: Date()))
    }

    @Test("a salaried CPE holder with ADELI identifier, organisation and unit")
    func salaried() throws {
        let holder = HolderProfile(
            idNat: "0123456789", givenName: "ALICE", surname: "INFIRMIERE", profession: "Infirmier", cardType: .cpe,
            organization: "CENTRE HOSPITALIER TEST", organizationalUnit: "330000000")
        let state = try TestCards.makeState(CardProvisioningOptions(holder: holder))
        let identity = try HolderIdentity(certificateDER: state.authenticationCertificateDER)
        #expect(identity.idKind == .adeli)
        #expect(identity.cardType == .cpe)
        #expect(identity.organization == "CENTRE HOSPITALIER TEST")
        #expect(identity.organizationalUnit == "330000000")
    }

    @Test("identifier kinds follow the first digit (TRE_G08)", arguments: [
        ("810003461033", IdentifierKind.rpps), ("0751234567", .adeli), ("3123456789", .finess), ("5123", .siret),
        ("9999", .unknown),
    ])
    func kinds(idNat: String, kind: IdentifierKind) {
        #expect(IdentifierKind(idNat: idNat) == kind)
    }

    @Test("garbage is a typed error, not a crash")
    func malformed() {
        #expect(throws: IdentityError(.malformedCertificate, "")) { try HolderIdentity(certificateDER: [0x30, 0x03, 0x02, 0x01]) }
        #expect(throws: IdentityError(.malformedCertificate, "")) { try HolderIdentity(certificateDER: []) }
    }
}

@Suite("IGC-Santé trust store")
struct TrustStoreTests {
    static let testDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Packaging/trust/test").standardized

    static func store() throws -> TrustStore {
        var store = TrustStore()
        try store.load(directory: testDirectory, kind: .test)
        return store
    }

    @Test("the shipped test store holds the root and the intermediate")
    func shippedStore() throws {
        let store = try Self.store()
        #expect(store.roots.count == 1)
        #expect(store.intermediates.count == 1)
    }

    @Test("a card from cps-vcard chains to the test root")
    func trusted() async throws {
        let certificate = try Certificate(derEncoded: TestCards.defaultState.authenticationCertificateDER)
        let store = try Self.store()
        #expect(await store.verify(certificate) == .trusted(.test))
    }

    @Test("an empty store, or one with only production roots, does not trust the test card")
    func untrusted() async throws {
        let certificate = try Certificate(derEncoded: TestCards.defaultState.authenticationCertificateDER)
        guard case .untrusted = await TrustStore().verify(certificate) else {
            Issue.record("an empty store trusted a certificate")
            return
        }
        var production = TrustStore()
        try production.load(directory: Self.testDirectory.deletingLastPathComponent().appendingPathComponent("production"), kind: .production)
        guard case .untrusted = await production.verify(certificate) else {
            Issue.record("the production store trusted a test certificate")
            return
        }
    }

    @Test("an expired card certificate is not trusted now, and is at a date inside its validity")
    func expired() async throws {
        let day: TimeInterval = 86_400
        var options = CardProvisioningOptions()
        options.notBefore = Date(timeIntervalSinceNow: -400 * day)
        options.notAfter = Date(timeIntervalSinceNow: -30 * day)
        let state = try TestCards.makeState(options)
        let certificate = try Certificate(derEncoded: state.authenticationCertificateDER)
        let store = try Self.store()
        guard case .untrusted = await store.verify(certificate) else {
            Issue.record("an expired certificate was trusted")
            return
        }
        #expect(await store.verify(certificate, at: Date(timeIntervalSinceNow: -100 * day)) == .trusted(.test))
    }

    @Test("a corrupt PEM in a trust directory is an error, not silently ignored")
    func corrupt() throws {
        let directory = TestCards.temporaryDirectory("cpsd-trust")
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(
            to: directory.appendingPathComponent("bad.pem"), atomically: true, encoding: .utf8)
        var store = TrustStore()
        #expect(throws: IdentityError(.unreadableTrustStore, "")) { try store.load(directory: directory, kind: .production) }
    }
}
