package import Foundation

/// The whole run: every check in order, and how to print it.
package struct DiagReport: Encodable {
    package struct Summary: Encodable, Equatable {
        package var ok = 0, warn = 0, fail = 0, skip = 0
        /// The worst status seen ("ok" when only ok and skip).
        package var overall: DiagCheck.Status = .ok
        package var exitStatus: Int32 = 0
    }

    package static let schema = "cpsd-diag/1"

    package let schema = DiagReport.schema
    package let generated: Date
    package let version: String
    package let summary: Summary
    package let checks: [DiagCheck]

    package init(checks: [DiagCheck], generated: Date = Date()) {
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

    package func check(_ id: String) -> DiagCheck? { checks.first { $0.id == id } }

    package func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Human text; `colour` for a terminal only.
    package func text(colour: Bool) -> String {
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
