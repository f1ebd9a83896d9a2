@testable import Diagnostics

extension DiagRunner {
    /// The check of that id, nil when the run has none (tests `#require` it).
    func check(_ id: String) -> DiagCheck? { checks.first { $0.id == id } }
}
