package import CardIdentity
package import Foundation
import LocalCA
package import NIOSSL
import SwiftASN1
import X509

/// The demo's TLS identities and configurations.
package enum DemoTLS {
    /// A server certificate chain and its key.
    package struct ServerIdentity: Sendable {
        package var chain: [NIOSSLCertificate]
        package var key: NIOSSLPrivateKey
        /// The CA a browser must trust for this identity, when the demo made it.
        package var caPath: String?
    }

    /// Reads `--tls-cert` (PEM, leaf first, then any intermediates) and `--tls-key` (PEM).
    package static func identity(certificatePEM: String, keyPEM: String) throws -> ServerIdentity {
        do {
            return ServerIdentity(
                chain: try NIOSSLCertificate.fromPEMFile(certificatePEM), key: try NIOSSLPrivateKey(file: keyPEM, format: .pem),
                caPath: nil)
        } catch {
            throw DemoServerError("cannot read --tls-cert \(certificatePEM) / --tls-key \(keyPEM): \(error)")
        }
    }

    /// A certificate for localhost, 127.0.0.1 and ::1 from a local CA made for this state directory (cpsd's
    /// LocalCA: name-constrained to those names, its key never stored), kept in `directory` across runs.
    package static func localIdentity(stateDirectory directory: URL) throws -> (identity: ServerIdentity, created: Bool) {
        let store = LocalIdentityStore(directory: directory)
        do {
            let result = try store.loadOrCreate()
            let identity = ServerIdentity(
                chain: [try NIOSSLCertificate(bytes: try der(result.identity.certificate), format: .der)],
                key: try NIOSSLPrivateKey(bytes: Array(result.identity.privateKeyPEM.utf8), format: .pem),
                caPath: store.caPath)
            return (identity, result.created)
        } catch {
            throw DemoServerError("cannot make or load the demo's TLS certificate in \(directory.path): \(error)")
        }
    }

    /// The login page's TLS: TLS 1.2 or 1.3, no client certificate.
    package static func loginConfiguration(_ identity: ServerIdentity) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.chain.map { .certificate($0) }, privateKey: .privateKey(identity.key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// TLS client authentication: at most TLS 1.2, because a CPS3 key signs PKCS#1 v1.5 only and TLS 1.3
    /// demands PSS for CertificateVerify. A presented certificate must chain to the trust store's roots
    /// (its intermediates are offered to path building); the CA names are sent so the browser proposes the
    /// card's certificate only. No certificate at all is let through, so the page can say what to do.
    package static func clientAuthenticationConfiguration(
        _ identity: ServerIdentity, trustStore: TrustStore
    ) throws -> TLSConfiguration {
        var configuration = loginConfiguration(identity)
        configuration.maximumTLSVersion = .tlsv12
        configuration.certificateVerification = .optionalVerification
        let certificates = trustStore.roots.map(\.certificate) + trustStore.intermediates
        guard !trustStore.roots.isEmpty else {
            throw DemoServerError("TLS client authentication needs at least one trusted root (--trust)")
        }
        do {
            configuration.trustRoots = .certificates(
                try certificates.map { try NIOSSLCertificate(bytes: try der($0), format: .der) })
        } catch {
            throw DemoServerError("cannot load the trust roots into TLS: \(error)")
        }
        configuration.sendCANameList = true
        return configuration
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}
