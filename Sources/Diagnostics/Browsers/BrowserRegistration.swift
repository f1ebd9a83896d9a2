package import Foundation

/// The NSS databases browsers read PKCS#11 modules from, and registration of cpsd's module in them.
/// cpsd's module is the stock p11-kit-client.so: it reaches cpsd at p11-kit's default address, so the
/// browsers need no environment variable.
package struct BrowserRegistration {
    package static let moduleName = "CPS (cpsd)"
    static let clientModuleCandidates = [
        "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so",
        "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
        "/usr/lib64/pkcs11/p11-kit-client.so",
        "/usr/lib/pkcs11/p11-kit-client.so",
    ]

    package struct Database: Hashable {
        package let browser: String
        package let directory: String
    }

    package let home: URL
    package let environment: [String: String]
    /// What is read (profiles.ini, the databases' files) and run (modutil, certutil): diag's seams.
    let files: any DiagFileSystem
    let programs: any ProgramRunner

    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment, files: any DiagFileSystem = LocalFileSystem(),
        programs: any ProgramRunner = LocalProgramRunner()
    ) {
        self.environment = environment
        self.files = files
        self.programs = programs
        home = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory())
    }

    package var clientModule: String? { Self.clientModuleCandidates.first { files.fileExists($0) } }

    /// Chromium's shared NSS database (~/.pki/nssdb, and the XDG data location) and every Firefox profile.
    package func databases() -> [Database] {
        let dataHome = environment["XDG_DATA_HOME"].map { URL(fileURLWithPath: $0) }
            ?? home.appendingPathComponent(".local/share")
        var found = [
            Database(browser: "Chromium", directory: home.appendingPathComponent(".pki/nssdb").path),
            Database(browser: "Chromium (XDG)", directory: dataHome.appendingPathComponent("pki/nssdb").path),
        ]
        for root in [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"] {
            found += firefoxProfiles(in: home.appendingPathComponent(root)).map { Database(browser: "Firefox", directory: $0) }
        }
        return found
    }

    /// Profiles listed in profiles.ini (relative or absolute `Path=` entries) that exist.
    package func firefoxProfiles(in root: URL) -> [String] {
        guard let ini = files.text(root.appendingPathComponent("profiles.ini").path) else { return [] }
        var profiles: [String] = []
        var path: String?
        var relative = true
        func flush() {
            if let path {
                let full = relative ? root.appendingPathComponent(path).path : path
                if files.fileExists(full) { profiles.append(full) }
            }
            path = nil
            relative = true
        }
        for line in ini.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("[") { flush() }
            if line.hasPrefix("Path=") { path = String(line.dropFirst(5)) }
            if line == "IsRelative=0" { relative = false }
        }
        flush()
        return profiles
    }

    /// Whether the module is registered in `database` (`modutil -list`).
    package func isRegistered(in database: Database) -> Bool {
        guard let listing = try? run("/usr/bin/modutil", ["-dbdir", "sql:\(database.directory)", "-list"]) else {
            return false
        }
        return listing.output.contains(Self.moduleName)
    }

    package func register(in database: Database, module: String) throws {
        let fileManager = FileManager.default
        if !files.fileExists(database.directory + "/cert9.db") {
            try fileManager.createDirectory(atPath: database.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Self.check(run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(database.directory)"]))
        }
        try Self.check(run("/usr/bin/modutil", [
            "-force", "-dbdir", "sql:\(database.directory)", "-add", Self.moduleName, "-libfile", module,
        ]))
    }

    package func unregister(from database: Database) throws {
        try Self.check(run("/usr/bin/modutil", ["-force", "-dbdir", "sql:\(database.directory)", "-delete", Self.moduleName]))
    }

    package static func check(_ result: (status: Int32, output: String)) throws {
        guard result.status == 0 else { throw DiagnosticsError(.toolFailed, result.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Runs an NSS tool; a missing one says which package brings it.
    package func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        guard files.isExecutableFile(tool) else {
            throw DiagnosticsError(.toolFailed, "\(tool) is missing: install the Debian package libnss3-tools.")
        }
        guard let result = programs.run(tool, arguments, environment: nil) else {
            throw DiagnosticsError(.toolFailed, "\(tool) could not be started.")
        }
        return result
    }
}
