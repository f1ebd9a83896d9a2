import Foundation

/// The support archive: report.txt, report.json, versions.txt and recent cpsd logs, redacted unless asked
/// (every file goes through ``Redactor``).
struct DiagBundle {
    let report: DiagReport
    let runner: DiagRunner
    let redact: Bool
    let cpsdLog: String?

    func write(to path: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpsd-diag-\(UUID().uuidString.prefix(8))")
        let root = directory.appendingPathComponent("cpsd-diag")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let redactor = Redactor(knownValues: redact ? runner.personalValues : [], environment: runner.options.environment, enabled: redact)
        var files = [
            ("report.txt", report.text(colour: false) + "\n"),
            ("report.json", try report.jsonText() + "\n"),
            ("versions.txt", runner.versionsText),
        ]
        if let log = recentLog() { files.append(("cpsd.log", log)) }
        for (name, text) in files {
            try redactor.redact(text).write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let target = URL(fileURLWithPath: path).path
        guard let result = DiagEnvironment.run("/bin/tar", ["-czf", target, "-C", directory.path, "cpsd-diag"]), result.status == 0 else {
            throw CLIError("Could not write the bundle \(target) with /bin/tar.")
        }
    }

    /// The last 500 lines of cpsd's log: the file given, else the user journal.
    private func recentLog() -> String? {
        if let cpsdLog {
            guard let text = try? String(contentsOfFile: cpsdLog, encoding: .utf8) else { return "cannot read \(cpsdLog)\n" }
            return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(500).joined(separator: "\n")
        }
        guard let journalctl = DiagEnvironment.tool("journalctl"),
            let result = DiagEnvironment.run(journalctl, ["--user", "-u", "cpsd", "-n", "500", "--no-pager"]),
            result.status == 0
        else { return nil }
        return result.output
    }
}
