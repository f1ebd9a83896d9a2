import Foundation

/// The support archive: report.txt, report.json, versions.txt and recent cpsd logs, redacted unless asked
/// (every file goes through ``Redactor``).
package struct DiagBundle {
    let report: DiagReport
    let runner: DiagRunner
    let redact: Bool
    let cpsdLog: String?

    package init(report: DiagReport, runner: DiagRunner, redact: Bool, cpsdLog: String?) {
        self.report = report
        self.runner = runner
        self.redact = redact
        self.cpsdLog = cpsdLog
    }

    package func write(to path: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpsd-diag-\(UUID().uuidString.prefix(8))")
        let root = directory.appendingPathComponent("cpsd-diag")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in try files() {
            try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let target = URL(fileURLWithPath: path).path
        guard let result = runner.environment.run("/bin/tar", ["-czf", target, "-C", directory.path, "cpsd-diag"]),
            result.status == 0
        else {
            throw DiagnosticsError(.toolFailed, "Could not write the bundle \(target) with /bin/tar.")
        }
    }

    /// The archive's files by name, already redacted (when asked).
    func files() throws -> [(name: String, text: String)] {
        let redactor = Redactor(
            knownValues: redact ? runner.personalValues : [], environment: runner.environment.variables, enabled: redact)
        var files = [
            ("report.txt", report.text(colour: false) + "\n"),
            ("report.json", try report.jsonText() + "\n"),
            ("versions.txt", runner.versionsText),
        ]
        if let log = recentLog() { files.append(("cpsd.log", log)) }
        return files.map { (name: $0.0, text: redactor.redact($0.1)) }
    }

    /// The last 500 lines of cpsd's log: the file given, else the user journal.
    private func recentLog() -> String? {
        let environment = runner.environment
        if let cpsdLog {
            guard let text = environment.files.text(cpsdLog) else { return "cannot read \(cpsdLog)\n" }
            return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(500).joined(separator: "\n")
        }
        guard let journalctl = environment.tool("journalctl"),
            let result = environment.run(journalctl, ["--user", "-u", "cpsd", "-n", "500", "--no-pager"]),
            result.status == 0
        else { return nil }
        return result.output
    }
}
