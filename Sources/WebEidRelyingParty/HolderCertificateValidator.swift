package import CardIdentity
package import Foundation
package import X509
import SwiftASN1

/// Checks that a certificate is a usable CPS authentication certificate and reads its holder: the
/// certificate steps of browser-and-psc.md §2.6 (validity, keyUsage, extendedKeyUsage, chain), shared by
/// the Web eID token validator and TLS client authentication.
///
/// Not done: revocation. Web eID validators ask OCSP (step 4); IGC-Santé publishes CRLs and OCSP, but a
/// relying party built on this needs network access and a responder configuration that this reference
/// does not have. A deployment must add it before trusting a card that could have been revoked.
package struct HolderCertificateValidator: Sendable {
    package let trustStore: TrustStore

    package init(trustStore: TrustStore) {
        self.trustStore = trustStore
    }

    /// Parses DER, then validates as ``validate(_:at:)``.
    package func validate(der: [UInt8], at date: Date) async throws(RelyingPartyError) -> (Certificate, HolderIdentity) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw RelyingPartyError(.malformedCertificate, "the certificate is not DER X.509: \(error)")
        }
        return (certificate, try await validate(certificate, at: date))
    }

    /// The checks in the order Web eID runs them; the first failure is thrown.
    package func validate(_ certificate: Certificate, at date: Date) async throws(RelyingPartyError) -> HolderIdentity {
        guard date >= certificate.notValidBefore else {
            throw RelyingPartyError(.certificateNotYetValid, "the certificate is valid from \(certificate.notValidBefore)")
        }
        guard date <= certificate.notValidAfter else {
            throw RelyingPartyError(.certificateExpired, "the certificate expired on \(certificate.notValidAfter)")
        }
        try Self.checkUsages(certificate)
        if case .untrusted(let reason) = await trustStore.verify(certificate, at: date) {
            throw RelyingPartyError(.untrustedCertificate, "the certificate does not chain to a trusted root: \(reason)")
        }
        do {
            return try HolderIdentity(certificate: certificate)
        } catch {
            throw RelyingPartyError(.missingIdentity, "\(error)")
        }
    }

    /// keyUsage must allow digitalSignature; an extendedKeyUsage, when present, must allow clientAuth
    /// (Web eID tolerates its absence; CPS authentication certificates carry it).
    static func checkUsages(_ certificate: Certificate) throws(RelyingPartyError) {
        let keyUsage: KeyUsage?
        let extendedKeyUsage: ExtendedKeyUsage?
        do {
            keyUsage = try certificate.extensions.keyUsage
            extendedKeyUsage = try certificate.extensions.extendedKeyUsage
        } catch {
            throw RelyingPartyError(.malformedCertificate, "unreadable key usage extensions: \(error)")
        }
        guard let keyUsage, keyUsage.digitalSignature else {
            throw RelyingPartyError(.keyUsage, "the certificate's key usage does not allow digitalSignature")
        }
        if let extendedKeyUsage, !extendedKeyUsage.contains(.clientAuth) {
            throw RelyingPartyError(.extendedKeyUsage, "the certificate's extended key usage does not allow clientAuth")
        }
    }
}
