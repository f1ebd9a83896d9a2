package import Foundation
import Crypto
import Glibc
import SwiftASN1
import X509

/// Keeps the bridge's identity in one directory: `ca.pem` (what browsers are told to trust, public),
/// `bridge.pem` and `bridge-key.pem` (0600). Made on first use; made again, with a new CA, when a file
/// is missing or unreadable, the key does not match, or the certificate is within `renewBefore` of
/// expiry. A new CA means `cpsctl setup` must trust it again, which the caller is told through
/// `LoadResult.created`.
package struct LocalIdentityStore: Sendable {
    package static let caFile = "ca.pem"
    package static let certificateFile = "bridge.pem"
    package static let keyFile = "bridge-key.pem"

    package let directory: URL
    package var renewBefore: TimeInterval = 30 * 86_400

    package init(directory: URL) { self.directory = directory }

    /// `$XDG_STATE_HOME/cpsd/bridge`, or `~/.local/state/cpsd/bridge`: state of this machine (the key is
    /// of no use elsewhere), and the one directory the hardened systemd unit lets cpsd write
    /// (`StateDirectory=cpsd`).
    package static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return URL(fileURLWithPath: base).appendingPathComponent("cpsd/bridge", isDirectory: true)
    }

    package struct LoadResult: Sendable {
        package var identity: LocalServerIdentity
        /// True when a new CA was made now (the browsers do not trust it yet).
        package var created: Bool
    }

    package var caPath: String { directory.appendingPathComponent(Self.caFile).path }
    package var certificatePath: String { directory.appendingPathComponent(Self.certificateFile).path }
    package var keyPath: String { directory.appendingPathComponent(Self.keyFile).path }

    package func loadOrCreate(now: Date = Date()) throws(LocalCAError) -> LoadResult {
        if let identity = load(), identity.certificate.notValidAfter.timeIntervalSince(now) > renewBefore,
            identity.certificate.notValidBefore <= now.addingTimeInterval(300)
        {
            return LoadResult(identity: identity, created: false)
        }
        let identity = try LocalCertificateAuthority.issue(commonName: "cpsd bridge", now: now)
        try save(identity)
        return LoadResult(identity: identity, created: true)
    }

    /// The stored identity, or nil when anything about it is off.
    package func load() -> LocalServerIdentity? {
        guard let caText = try? String(contentsOfFile: caPath, encoding: .utf8),
            let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8),
            let ca = try? Certificate(pemEncoded: caText),
            let certificate = try? Certificate(pemEncoded: certificateText),
            let key = try? P256.Signing.PrivateKey(pemRepresentation: keyText),
            Certificate.PublicKey(key.publicKey) == certificate.publicKey,
            certificate.issuer == ca.subject
        else { return nil }
        return LocalServerIdentity(caCertificate: ca, certificate: certificate, privateKeyPEM: keyText)
    }

    private func save(_ identity: LocalServerIdentity) throws(LocalCAError) {
        try storing { try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        // The key first and the CA last: a reader that finds ca.pem finds a complete set.
        try write(identity.privateKeyPEM, to: keyPath, mode: 0o600)
        try write(try storing { try identity.certificatePEM }, to: certificatePath, mode: 0o644)
        try write(try storing { try identity.caCertificatePEM }, to: caPath, mode: 0o644)
    }

    /// Runs a Foundation or X509 step of `save`, its failure as a `.storage` error naming the directory.
    private func storing<R>(_ step: () throws -> R) throws(LocalCAError) -> R {
        do {
            return try step()
        } catch {
            throw LocalCAError(.storage, "cannot store the bridge certificate in \(directory.path): \(error)")
        }
    }

    /// Writes through a temporary file created with its final mode, then renames it into place.
    private func write(_ text: String, to path: String, mode: Int) throws(LocalCAError) {
        let temporary = path + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(
            atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw LocalCAError(.storage, "cannot create \(temporary)") }
        guard rename(temporary, path) == 0 else {
            throw LocalCAError(.storage, "cannot rename \(temporary) to \(path): errno \(errno)")
        }
    }
}
