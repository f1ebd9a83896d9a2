package import Foundation
package import LocalCA

/// The browsers' trust in cpsd's bridge: its local CA (name-constrained to the loopback names) added to
/// each NSS database as a CA for websites only (`C,,`), under one nickname so it can be found, renewed
/// and removed.
package struct BridgeTrust {
    package static let nickname = "cpsd local bridge CA"
    package let store: LocalIdentityStore
    /// Runs certutil on the databases.
    let registration: BrowserRegistration

    package init(environment: [String: String] = ProcessInfo.processInfo.environment, registration: BrowserRegistration? = nil) {
        store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory(environment: environment))
        self.registration = registration ?? BrowserRegistration(environment: environment)
    }

    /// The CA browsers must trust, made now if cpsd has not run yet (cpsd then uses the same one).
    package func caPEM() throws -> String {
        do {
            return try store.loadOrCreate().identity.caCertificatePEM
        } catch {
            throw DiagnosticsError(.localCA, "the bridge certificate cannot be made in \(store.directory.path): \(error)")
        }
    }

    /// The CA as `database` holds it, in PEM, or nil.
    package func trustedPEM(in database: BrowserRegistration.Database) -> String? {
        guard let result = try? registration.run(
            "/usr/bin/certutil", ["-L", "-d", "sql:\(database.directory)", "-n", Self.nickname, "-a"]),
            result.status == 0
        else { return nil }
        return result.output
    }

    package func isTrusted(in database: BrowserRegistration.Database, pem: String) -> Bool {
        guard let held = trustedPEM(in: database) else { return false }
        return Self.normalized(held) == Self.normalized(pem)
    }

    /// Adds the CA, replacing an older one of the same nickname (a renewed CA).
    package func trust(in database: BrowserRegistration.Database, pem: String) throws {
        if trustedPEM(in: database) != nil { try distrust(in: database) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cpsd-bridge-ca-\(getpid()).pem")
        try pem.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try BrowserRegistration.check(registration.run("/usr/bin/certutil", [
            "-A", "-d", "sql:\(database.directory)", "-n", Self.nickname, "-t", "C,,", "-i", file.path,
        ]))
    }

    package func distrust(in database: BrowserRegistration.Database) throws {
        try BrowserRegistration.check(registration.run(
            "/usr/bin/certutil", ["-D", "-d", "sql:\(database.directory)", "-n", Self.nickname]))
    }

    package static func normalized(_ pem: String) -> String {
        pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
    }
}
