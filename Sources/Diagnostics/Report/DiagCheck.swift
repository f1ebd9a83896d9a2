/// One diagnostic finding: what was checked, how it went, and what to do when it is not ok.
package struct DiagCheck: Encodable, Equatable {
    package enum Status: String, Encodable, Comparable, CaseIterable {
        case ok, skip, warn, fail

        /// ok and skip do not change the exit status; warn gives 1, fail gives 2.
        package var severity: Int {
            switch self {
            case .ok, .skip: 0
            case .warn: 1
            case .fail: 2
            }
        }

        package static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }

        package var symbol: String {
            switch self {
            case .ok: "✔"
            case .warn: "⚠"
            case .fail: "✘"
            case .skip: "–"
            }
        }

        /// ANSI colour for a terminal.
        package var colour: String {
            switch self {
            case .ok: "\u{1B}[32m"
            case .warn: "\u{1B}[33m"
            case .fail: "\u{1B}[31m"
            case .skip: "\u{1B}[90m"
            }
        }
    }

    /// Stable identifier, "category.subject" (installers' scripts match on it).
    package let id: String
    package let category: String
    package let status: Status
    /// One line: what was found (for a skip, why the check could not run).
    package let finding: String
    /// What to do; nil when ok.
    package let remedy: String?

    package init(_ id: String, _ status: Status, _ finding: String, remedy: String? = nil) {
        self.id = id
        category = String(id.prefix { $0 != "." })
        self.status = status
        self.finding = finding
        self.remedy = status == .ok ? nil : remedy
    }

    package static func ok(_ id: String, _ finding: String) -> DiagCheck { DiagCheck(id, .ok, finding) }
    package static func skip(_ id: String, _ why: String) -> DiagCheck { DiagCheck(id, .skip, why) }
    package static func warn(_ id: String, _ finding: String, remedy: String) -> DiagCheck {
        DiagCheck(id, .warn, finding, remedy: remedy)
    }
    package static func fail(_ id: String, _ finding: String, remedy: String) -> DiagCheck {
        DiagCheck(id, .fail, finding, remedy: remedy)
    }
}
