import Foundation
import SmartCardCore

/// One diagnostic finding: what was checked, how it went, and what to do when it is not ok.
struct DiagCheck: Encodable, Equatable {
    enum Status: String, Encodable, Comparable, CaseIterable {
        case ok, skip, warn, fail

        /// ok and skip do not change the exit status; warn gives 1, fail gives 2.
        var severity: Int {
            switch self {
            case .ok, .skip: 0
            case .warn: 1
            case .fail: 2
            }
        }

        static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }

        var symbol: String {
            switch self {
            case .ok: "✔"
            case .warn: "⚠"
            case .fail: "✘"
            case .skip: "–"
            }
        }

        /// ANSI colour for a terminal.
        var colour: String {
            switch self {
            case .ok: "\u{1B}[32m"
            case .warn: "\u{1B}[33m"
            case .fail: "\u{1B}[31m"
            case .skip: "\u{1B}[90m"
            }
        }
    }

    /// Stable identifier, "category.subject" (installers' scripts match on it).
    let id: String
    let category: String
    let status: Status
    /// One line: what was found (for a skip, why the check could not run).
    let finding: String
    /// What to do; nil when ok.
    let remedy: String?

    init(_ id: String, _ status: Status, _ finding: String, remedy: String? = nil) {
        self.id = id
        category = String(id.prefix { $0 != "." })
        self.status = status
        self.finding = finding
        self.remedy = status == .ok ? nil : remedy
    }

    static func ok(_ id: String, _ finding: String) -> DiagCheck { DiagCheck(id, .ok, finding) }
    static func skip(_ id: String, _ why: String) -> DiagCheck { DiagCheck(id, .skip, why) }
    static func warn(_ id: String, _ finding: String, remedy: String) -> DiagCheck {
        DiagCheck(id, .warn, finding, remedy: remedy)
    }
    static func fail(_ id: String, _ finding: String, remedy: String) -> DiagCheck {
        DiagCheck(id, .fail, finding, remedy: remedy)
    }
}

/// The whole run: every check in order, and how to print it.
struct DiagReport: Encodable {
    struct Summary: Encodable, Equatable {
        var ok = 0, warn = 0, fail = 0, skip = 0
        /// The worst status seen ("ok" when only ok and skip).
        var overall: DiagCheck.Status = .ok
        var exitStatus: Int32 = 0
    }

    static let schema = "cpsd-diag/1"

    let schema = DiagReport.schema
    let generated: Date
    let version: String
    let summary: Summary
    let checks: [DiagCheck]

    init(checks: [DiagCheck], generated: Date = Date()) {
        self.checks = checks
        self.generated = generated
        version = CPSCtlVersion.string
        var summary = Summary()
        for check in checks {
            switch check.status {
            case .ok: summary.ok += 1
            case .warn: summary.warn += 1
            case .fail: summary.fail += 1
            case .skip: summary.skip += 1
            }
        }
        summary.overall = checks.map(\.status).filter { $0 != .skip }.max() ?? .ok
        summary.exitStatus = Int32(summary.overall.severity)
        self.summary = summary
    }

    func check(_ id: String) -> DiagCheck? { checks.first { $0.id == id } }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Human text; `colour` for a terminal only.
    func text(colour: Bool) -> String {
        let reset = colour ? "\u{1B}[0m" : ""
        var lines: [String] = ["cpsctl diag \(version) — \(ISO8601DateFormatter().string(from: generated))"]
        var category = ""
        for check in checks {
            if check.category != category {
                category = check.category
                lines.append("")
                lines.append("[\(category)]")
            }
            let mark = colour ? check.status.colour + check.status.symbol + reset : check.status.symbol
            lines.append("\(mark) \(check.id): \(check.finding)")
            if let remedy = check.remedy { lines.append("    → \(remedy)") }
        }
        lines.append("")
        let verdict = switch summary.overall {
        case .ok, .skip: "all ok"
        case .warn: "warnings"
        case .fail: "failures"
        }
        lines.append(
            "Summary: \(verdict) (\(summary.ok) ok, \(summary.warn) warn, \(summary.fail) fail, \(summary.skip) skipped)")
        return lines.joined(separator: "\n")
    }
}

/// cpsctl's version, as printed by `diag` and put in support bundles.
enum CPSCtlVersion {
    static let string = Release.version
}
