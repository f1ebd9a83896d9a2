import Foundation
import LocalCA
import SwiftASN1
import X509

/// The bridge's local CA: present, not expiring, and trusted in every browser NSS database (without that
/// trust the extension's HTTPS calls to 127.0.0.1 fail). Read only: a missing CA is not made here.
extension DiagRunner {
    /// cpsd renews its CA and certificate at start when they expire within this (LocalIdentityStore).
    static let bridgeCARenewalDays = 30

    func bridgeCACheck(listening: Bool) {
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory(environment: environment.variables))
        let renew = "Restart cpsd (systemctl --user restart cpsd): it makes a new CA and certificate; then run cpsctl setup so the browsers trust it."
        guard environment.files.fileExists(store.caPath) else {
            if listening {
                add(.fail("bridge.ca", "cpsd's bridge runs, but its CA \(store.caPath) is missing", remedy: renew))
            } else {
                add(.skip("bridge.ca", "no local CA yet (\(store.caPath)): cpsd makes it when its bridge first starts"))
            }
            return
        }
        guard let pem = environment.files.text(store.caPath), let ca = try? Certificate(pemEncoded: pem) else {
            add(.fail(
                "bridge.ca", "\(store.caPath) is not a readable certificate",
                remedy: "Remove \(store.directory.path), then: " + renew))
            return
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let until = formatter.string(from: ca.notValidAfter)
        let days = Int(ca.notValidAfter.timeIntervalSince(now) / 86_400)
        if ca.notValidAfter <= now {
            add(.fail("bridge.ca", "the local CA \(store.caPath) expired on \(until)", remedy: renew))
            return
        }
        let databases = environment.browserRegistration.databases()
            .filter { environment.files.fileExists($0.directory) }
        guard !databases.isEmpty else {
            expiryOrOK("the local CA is valid until \(until) (\(days) days); no browser NSS database to trust it in", days: days, renew: renew)
            return
        }
        guard environment.tool("certutil") != nil else {
            expiryOrOK("the local CA is valid until \(until) (\(days) days); its trust is not checked (certutil missing, package libnss3-tools)", days: days, renew: renew)
            return
        }
        let trust = BridgeTrust(environment: environment.variables, registration: environment.browserRegistration)
        let untrusted = databases.filter { !trust.isTrusted(in: $0, pem: pem) }
        if untrusted.isEmpty {
            let where_ = databases.map { "\($0.browser) \($0.directory)" }.joined(separator: ", ")
            expiryOrOK("the local CA is valid until \(until) (\(days) days), trusted in \(where_)", days: days, renew: renew)
        } else {
            untrustedCADatabases = untrusted
            bridgeCAPEM = pem
            let names = untrusted.map { "\($0.browser) \($0.directory)" }.joined(separator: ", ")
            add(.warn(
                "bridge.ca", "the local CA (valid until \(until)) is not trusted in \(names): the extension cannot reach the bridge there",
                remedy: "cpsctl setup (or cpsctl diag --fix), then restart the browsers."))
        }
    }

    private func expiryOrOK(_ finding: String, days: Int, renew: String) {
        if days <= Self.bridgeCARenewalDays {
            add(.warn("bridge.ca", finding.replacingOccurrences(of: "(\(days) days)", with: "(expires in \(days) day(s))"), remedy: renew))
        } else {
            add(.ok("bridge.ca", finding))
        }
    }
}
