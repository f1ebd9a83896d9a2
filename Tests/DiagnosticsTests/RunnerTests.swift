import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

@testable import Diagnostics

/// The whole run on a fake machine: the order of the checks, what a failure early on makes later
/// checks skip, the summary and exit status.
@Suite("diag: the runner")
struct RunnerTests {
    static let categoryOrder = ["system", "pcscd", "readers", "card", "certificates", "pin", "cpsd", "p11kit", "middleware", "browsers", "bridge"]

    /// The categories in the order the report first shows them.
    static func categories(_ report: DiagReport) -> [String] {
        var seen: [String] = []
        for check in report.checks where seen.last != check.category { seen.append(check.category) }
        return seen
    }

    @Test("every check runs once, in the documented order of categories")
    func order() async throws {
        let report = await DiagFixture().runner().run()
        #expect(Self.categories(report) == Self.categoryOrder)
        let ids = report.checks.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.first == "system.os")
        #expect(Set(ids.suffix(4)) == Set(DiagRunner.bridgeCheckIDs))
    }

    @Test("pcscd down: its failure is why readers and card are skipped, and the exit status is 2")
    func pcscdDownSkipsWhatDependsOnIt() async throws {
        var fixture = DiagFixture()
        fixture.readers.listingError = .init(.serviceUnavailable, "SCARD_E_NO_SERVICE")
        let report = await fixture.runner().run()
        let dependent = report.checks.filter { ["readers", "card", "certificates", "pin"].contains($0.category) }
        #expect(dependent.count == 10)
        #expect(dependent.allSatisfy { $0.status == .skip && $0.finding.hasPrefix("pcscd is not reachable") })
        #expect(report.summary.overall == .fail)
        #expect(report.summary.exitStatus == 2)
    }

    @Test("the summary counts the checks and ignores skips for the verdict")
    func summary() async throws {
        let fixture = DiagFixture()
        fixture.readers.backend.plugReader("Fake Reader 00 00")
        try fixture.readers.backend.insert(TestCards.card(), into: "Fake Reader 00 00")
        let report = await fixture.runner().run()
        let summary = report.summary
        #expect(summary.ok + summary.warn + summary.fail + summary.skip == report.checks.count)
        #expect(summary.ok == report.checks.filter { $0.status == .ok }.count)
        #expect(summary.skip == report.checks.filter { $0.status == .skip }.count)
        let worst = report.checks.map(\.status).filter { $0 != .skip }.max() ?? .ok
        #expect(summary.overall == worst)
        #expect(report.text(colour: false).contains("[card]"))
    }

    @Test("an ok check carries no remedy, whatever was given")
    func okHasNoRemedy() {
        #expect(DiagCheck("x.y", .ok, "fine", remedy: "do something").remedy == nil)
        #expect(DiagCheck("x.y", .warn, "not fine", remedy: "do something").remedy == "do something")
        #expect(DiagCheck("x.y", .warn, "not fine", remedy: "r").category == "x")
    }
}
