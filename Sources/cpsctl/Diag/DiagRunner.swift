import CardIdentity
import Foundation
import SmartCardCore

/// Runs the checks in order; later checks read what earlier ones found (readers, the card).
final class DiagRunner {
    struct Options {
        var reader: String?
        var daemonSocket: String?
        var expiryWarningDays = 30
        /// The bridge's port, instead of the one cpsd's arguments or cpsd.conf give.
        var bridgePort: Int?
        var environment: [String: String] = ProcessInfo.processInfo.environment
    }

    let options: Options
    let trustStore: TrustStore
    let now: Date
    private(set) var checks: [DiagCheck] = []

    // What the checks found, for the checks after them, the bundle's redaction and --fix.
    var readers: [ReaderStatus]?
    var pcscdFailure: String?
    var identity: HolderIdentity?
    var serial: String?
    var certificateSerials: [String] = []
    var versionLines: [String] = []
    var daemonPID: Int32?
    var missingBrowserDatabases: [BrowserRegistration.Database] = []
    /// pcscd's other clients (nil until the reader checks ran).
    var pcscClients: [LocalProcess]?
    /// Where the bridge's CA is missing, and the CA, for --fix.
    var untrustedCADatabases: [BrowserRegistration.Database] = []
    var bridgeCAPEM: String?

    init(options: Options, trustStore: TrustStore, now: Date = Date()) {
        self.options = options
        self.trustStore = trustStore
        self.now = now
    }

    func add(_ check: DiagCheck) { checks.append(check) }

    func run() async -> DiagReport {
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
        var lines = ["cpsctl \(CPSCtlVersion.string)", "os \(DiagEnvironment.operatingSystem() ?? "unknown")"]
        lines += versionLines
        if let pid = daemonPID { lines.append("cpsd pid \(pid)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
