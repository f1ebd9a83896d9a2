import ArgumentParser
import Diagnostics
import Foundation

/// `cpsctl diag`: the installer's diagnostic. Passive unless --fix: no PIN, no VERIFY, no change.
struct DiagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diag",
        abstract: "Check the whole chain (system, pcscd, readers, card, cpsd, p11-kit, browsers, bridge) and say how to fix it.",
        discussion: """
            Passive: asks for no PIN, sends no VERIFY (only GET DATA and READ BINARY to the card, and a \
            feature request to each reader), changes nothing unless --fix. Exit status 0 when all is ok (skipped checks allowed), 1 with warnings, 2 \
            with failures. --json prints the report in the cpsd-diag/1 schema \
            (Packaging/diag/diag-schema-v1.json); --bundle writes a support archive with personal data redacted.
            """
    )

    @Flag(name: .long, help: "Print the report as JSON (schema cpsd-diag/1).")
    var json = false

    @Option(name: .long, help: "Write a support archive (.tar.gz): report.txt, report.json, versions.txt, cpsd logs.")
    var bundle: String?

    @Flag(name: .long, help: "Keep personal data (identifiers, names, serials) in the bundle.")
    var noRedact = false

    @Flag(name: .long, help: "Apply the reversible repairs diag knows (module registration and bridge CA trust in the browsers).")
    var fix = false

    @Flag(name: .long, help: "With --fix: do not ask for confirmation.")
    var yes = false

    @Option(name: .long, help: "Warn when a certificate expires within this many days.")
    var expiryWarningDays = 30

    @Option(name: .long, help: "Reader name (default: the reader holding a CPS card).")
    var reader: String?

    @Option(name: .customLong("daemon-socket"), help: "cpsd's PKCS#11 socket (default: the p11-kit address).")
    var daemonSocket: String?

    @Option(name: .long, help: "The bridge's port (default: the running cpsd's --bridge-port, else cpsd.conf, else 36443).")
    var bridgePort: Int?

    @Option(name: .long, help: "cpsd log file to put in the bundle (default: journalctl --user -u cpsd).")
    var cpsdLog: String?

    @OptionGroup var trust: TrustOptions

    func run() async throws {
        let options = DiagRunner.Options(
            reader: reader, daemonSocket: daemonSocket, expiryWarningDays: expiryWarningDays, bridgePort: bridgePort)
        var runner = DiagRunner(options: options, trustStore: try trust.load())
        var report = await runner.run()
        if fix, try applyFixes(runner) {
            runner = DiagRunner(options: options, trustStore: try trust.load())
            report = await runner.run()
        }
        let colour = !json && isatty(STDOUT_FILENO) == 1
        print(json ? try report.jsonText() : report.text(colour: colour))
        if let bundle {
            try DiagBundle(report: report, runner: runner, redact: !noRedact, cpsdLog: cpsdLog).write(to: bundle)
            FileHandle.standardError.write(Data("Support bundle: \(bundle)\(noRedact ? " (NOT redacted)" : " (personal data redacted)")\n".utf8))
        }
        if report.summary.exitStatus != 0 { throw ExitCode(report.summary.exitStatus) }
    }

    /// Registers the module and trusts the bridge's CA where they are missing, each change confirmed
    /// unless --yes. True when something changed.
    private func applyFixes(_ runner: DiagRunner) throws -> Bool {
        guard !runner.missingBrowserDatabases.isEmpty || !runner.untrustedCADatabases.isEmpty else {
            note("--fix: nothing to repair")
            return false
        }
        var changed = registerModule(in: runner.missingBrowserDatabases)
        if let pem = runner.bridgeCAPEM {
            let trust = BridgeTrust()
            for database in runner.untrustedCADatabases {
                guard confirm("Trust cpsd's bridge CA (websites only, limited to localhost) in \(database.browser) \(database.directory)?") else {
                    note("--fix: left \(database.directory) unchanged")
                    continue
                }
                do {
                    try trust.trust(in: database, pem: pem)
                    note("--fix: trusted the bridge CA in \(database.browser) \(database.directory) (undo: cpsctl setup --undo)")
                    changed = true
                } catch {
                    note("--fix: could not trust the bridge CA in \(database.directory): \(error)")
                }
            }
        }
        return changed
    }

    private func registerModule(in databases: [BrowserRegistration.Database]) -> Bool {
        guard !databases.isEmpty else { return false }
        let registration = BrowserRegistration()
        guard let module = registration.clientModule else {
            note("--fix: p11-kit-client.so is missing (package p11-kit-modules): nothing registered")
            return false
        }
        var changed = false
        for database in databases {
            guard confirm("Register \"\(BrowserRegistration.moduleName)\" in \(database.browser) \(database.directory)?") else {
                note("--fix: left \(database.directory) unchanged")
                continue
            }
            do {
                try registration.register(in: database, module: module)
                note("--fix: registered \"\(BrowserRegistration.moduleName)\" in \(database.browser) \(database.directory) (undo: cpsctl setup --undo)")
                changed = true
            } catch {
                note("--fix: could not register in \(database.directory): \(error)")
            }
        }
        return changed
    }

    private func confirm(_ question: String) -> Bool {
        if yes { return true }
        guard isatty(STDIN_FILENO) == 1 else {
            note("\(question) not confirmed (no terminal; pass --yes)")
            return false
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        return readLine()?.lowercased().hasPrefix("y") == true
    }

    private func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
