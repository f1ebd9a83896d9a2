import CardIdentity
import CardTestSupport
import Crypto
import Foundation
import SwiftASN1
import VirtualCard
import WebEid
import WebEidRelyingParty
import X509

enum RelyingPartyTestSupport {
    static let trustDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Packaging/trust/test").standardized

    /// The shipped test trust store (TEST AC RACINE IGC-SANTE FORT and its intermediate).
    static func trustStore() throws -> TrustStore {
        var store = TrustStore()
        try store.load(directory: trustDirectory, kind: .test)
        return store
    }

    static let siteA = try! WebOrigin(validating: "https://rp.example:8443")
    static let siteB = try! WebOrigin(validating: "https://phishing.example")

    static func validator(origin: WebOrigin = siteA, now: @escaping @Sendable () -> Date = { Date() }) throws
        -> WebEidTokenValidator
    {
        WebEidTokenValidator(trustStore: try trustStore(), expectedOrigin: origin, now: now)
    }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date = Date()) { self.date = date }
    var now: Date { lock.withLock { date } }
    func advance(_ seconds: TimeInterval) { lock.withLock { date += seconds } }
}

/// A CA that is not IGC-Santé: issues certificates a validator configured with the test roots must refuse,
/// or that a validator configured with this CA accepts (for the algorithms a CPS3 cannot make).
struct ForeignCA {
    let key = P256.Signing.PrivateKey()
    let certificate: Certificate

    init(name: String = "FOREIGN TEST ROOT") throws {
        let name = try DistinguishedName { CommonName(name) }
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSinceNow: -86_400), notValidAfter: Date(timeIntervalSinceNow: 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    /// A card-like end-entity certificate for `publicKey` with the test holder's subject.
    func issue(
        publicKey: Certificate.PublicKey, keyUsage: KeyUsage = KeyUsage(digitalSignature: true),
        extendedKeyUsage: ExtendedKeyUsage? = try! ExtendedKeyUsage([.clientAuth])
    ) throws -> [UInt8] {
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: Date(timeIntervalSinceNow: -86_400), notValidAfter: Date(timeIntervalSinceNow: 365 * 86_400),
            issuer: self.certificate.subject, subject: try TestCertificateAuthority.subject(for: .testDefault),
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(keyUsage)
                if let extendedKeyUsage { extendedKeyUsage }
            },
            issuerPrivateKey: .init(key))
        return try TestCertificateAuthority.der(certificate)
    }

    var trustStore: TrustStore {
        var store = TrustStore()
        store.add(certificate, kind: .test)
        return store
    }
}
