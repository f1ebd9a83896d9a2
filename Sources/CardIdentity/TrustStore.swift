package import Foundation
@_spi(FixedExpiryValidationTime) package import X509
import SwiftASN1

/// The IGC-Santé roots and intermediates a card certificate must chain to. Loaded from directories
/// of PEM files: `Packaging/trust/production` (the real IGC-Santé CAs, installed by the package) and
/// `Packaging/trust/test` (cpsd's test PKI, which cps-vcard issues from). Self-signed certificates
/// are roots; the others are intermediates offered to path building.
package struct TrustStore: Sendable {
    package enum Kind: String, Sendable, Codable { case production, test }

    package struct Anchor: Sendable {
        package var certificate: Certificate
        package var kind: Kind
    }

    package private(set) var roots: [Anchor] = []
    package private(set) var intermediates: [Certificate] = []

    package init() {}

    /// Adds every `*.pem` / `*.crt` in `directory`. A missing directory adds nothing; an unreadable
    /// certificate is an error (a broken trust store must be noticed, not ignored).
    package mutating func load(directory: URL, kind: Kind) throws(IdentityError) {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        for file in files.sorted(by: { $0.path < $1.path }) where ["pem", "crt"].contains(file.pathExtension) {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
                for certificate in try PEMDocument.parseMultiple(pemString: text).map({ try Certificate(pemDocument: $0) }) {
                    add(certificate, kind: kind)
                }
            } catch {
                throw IdentityError(.unreadableTrustStore, "\(file.path): \(error)")
            }
        }
    }

    package mutating func add(_ certificate: Certificate, kind: Kind) {
        if certificate.subject == certificate.issuer {
            roots.append(Anchor(certificate: certificate, kind: kind))
        } else {
            intermediates.append(certificate)
        }
    }

    /// The outcome of checking a card certificate against the store.
    package enum Verdict: Hashable, Sendable {
        case trusted(Kind)
        case untrusted(String)
    }

    /// Builds and checks a path from `leaf` to one of the roots, at `date` (RFC 5280: signatures,
    /// validity periods, CA constraints).
    package func verify(_ leaf: Certificate, at date: Date = Date()) async -> Verdict {
        guard !roots.isEmpty else { return .untrusted("no trusted IGC-Santé root is installed") }
        var verifier = Verifier(rootCertificates: CertificateStore(roots.map(\.certificate))) {
            RFC5280Policy(fixedExpiryValidationTime: date)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            let root = chain.last
            return .trusted(roots.first { $0.certificate == root }?.kind ?? .production)
        case .couldNotValidate(let failures):
            let reason = failures.first.map { "\($0.policyFailureReason)" } ?? "no path to a trusted root"
            return .untrusted(reason)
        }
    }
}
