package import CardIdentity
package import Foundation
package import SmartCardCore

/// Runs the checks in order; later checks read what earlier ones found (readers, the card).
package final class DiagRunner {
    package struct Options {
        package var reader: String?
        package var daemonSocket: String?
        package var expiryWarningDays = 30
        /// The bridge's port, instead of the one cpsd's arguments or cpsd.conf give.
        package var bridgePort: Int?

        package init(reader: String? = nil, daemonSocket: String? = nil, expiryWarningDays: Int = 30, bridgePort: Int? = nil) {
            self.reader = reader
            self.daemonSocket = daemonSocket
            self.expiryWarningDays = expiryWarningDays
            self.bridgePort = bridgePort
        }
    }

    package let options: Options
    package let environment: DiagEnvironment
    let trustStore: TrustStore
    let now: Date
    package private(set) var checks: [DiagCheck] = []

    // What the checks found, for the checks after them, the bundle's redaction and --fix.
    package var readers: [ReaderStatus]?
    var pcscdFailure: String?
    package var identity: HolderIdentity?
    package var serial: String?
    var certificateSerials: [String] = []
    var versionLines: [String] = []
    package var daemonPID: Int32?
    package var missingBrowserDatabases: [BrowserRegistration.Database] = []
    /// pcscd's other clients (nil until the reader checks ran).
    var pcscClients: [LocalProcess]?
    /// Where the bridge's CA is missing, and the CA, for --fix.
    package var untrustedCADatabases: [BrowserRegistration.Database] = []
    package var bridgeCAPEM: String?

    package init(options: Options, environment: DiagEnvironment = .local(), trustStore: TrustStore, now: Date = Date()) {
        self.options = options
        self.environment = environment
        self.trustStore = trustStore
        self.now = now
    }

    func add(_ check: DiagCheck) { checks.append(check) }

    package func run() async -> DiagReport {
        systemChecks()
        pcscdChecks()
        readerChecks()
        await cardChecks()
        daemonChecks()
        p11KitChecks()
        cryptolibCheck()
        browserChecks()
        bridgeChecks()
        return DiagReport(checks: checks, generated: now)
    }

    /// The personal values this run saw, for redaction.
    var personalValues: [String] {
        var values = [identity?.idNat, identity?.givenName, identity?.surname, serial].compactMap { $0 }
        values += certificateSerials
        if let idNat = identity?.idNat, idNat.count > 1 { values.append(String(idNat.dropFirst())) }
        return values.filter { !$0.isEmpty }
    }

    /// versions.txt of the bundle.
    var versionsText: String {
        var lines = ["cpsctl \(CPSCtlVersion.string)", "os \(environment.operatingSystem() ?? "unknown")"]
        lines += versionLines
        if let pid = daemonPID { lines.append("cpsd pid \(pid)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
