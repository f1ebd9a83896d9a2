import Foundation

/// The support archive: report.txt, report.json, versions.txt and recent cpsd logs, redacted unless asked.
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
        let redactor = Redactor(knownValues: redact ? runner.personalValues : [], enabled: redact)
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

/// Removes personal data from text: the values seen on the card, and anything shaped like a French
/// health identifier (idNat: RPPS 8 + 10 digits, ADELI 0 + 9 digits and their bare forms), a FINESS
/// (9 digits) or SIRET (14 digits), a card serial (10 digits) or a certificate serial (hex).
struct Redactor {
    let knownValues: [String]
    let enabled: Bool

    static let patterns: [(String, String)] = [
        // Certificate serial numbers as printed (hex bytes, with or without colons), 8 bytes or more.
        (#"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7,}\b"#, "<certificate-serial>"),
        (#"\b[0-9A-Fa-f]{16,}\b"#, "<hex>"),
        // idNat: a type prefix digit then RPPS (11), ADELI (9); with the prefix 8/0 or bare.
        (#"\b[0-9]{9,14}\b"#, "<number>"),
    ]

    init(knownValues: [String], enabled: Bool = true) {
        // Longest first, so a value containing another is removed whole.
        self.knownValues = knownValues.filter { $0.count >= 2 }.sorted { $0.count > $1.count }
        self.enabled = enabled
    }

    func redact(_ text: String) -> String {
        guard enabled else { return text }
        var result = text
        for value in knownValues {
            result = result.replacingOccurrences(of: value, with: "<redacted>", options: .caseInsensitive)
        }
        for (pattern, replacement) in Self.patterns {
            result = result.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return result
    }
}
