import CardTestSupport
import Foundation
import Testing
import VirtualCard

@testable import Diagnostics

/// The support bundle's files: what a run saw on the card, the home directory and cpsd's log lines are
/// redacted unless asked.
@Suite("diag --bundle: the archive's contents")
struct BundleTests {
    static let reader = "Fake Reader 00 00"

    /// A run that read the default test card, and a cpsd log mentioning a serial and the home directory.
    static func cardRun() async throws -> (DiagRunner, DiagReport) {
        let fixture = DiagFixture()
        fixture.readers.backend.plugReader(reader)
        try fixture.readers.backend.insert(TestCards.card(), into: reader)
        fixture.files.write("/var/log/cpsd.log", "info cpsd: serial=12345678 card read\nopened \(DiagFixture.home)/.config/cpsd/cpsd.conf\n")
        let runner = fixture.runner()
        return (runner, await runner.run())
    }

    static func text(_ files: [(name: String, text: String)], _ name: String) throws -> String {
        try #require(files.first { $0.name == name }).text
    }

    @Test("redacted: none of the holder's values, the card serial or the home directory remain, in any file")
    func redacted() async throws {
        let (runner, report) = try await Self.cardRun()
        let personal = runner.personalValues
        #expect(runner.identity != nil)
        #expect(!personal.isEmpty)
        let files = try DiagBundle(report: report, runner: runner, redact: true, cpsdLog: "/var/log/cpsd.log").files()
        #expect(files.map(\.name) == ["report.txt", "report.json", "versions.txt", "cpsd.log"])
        for file in files {
            for value in personal { #expect(!file.text.contains(value), "\(file.name) keeps \(value)") }
            #expect(!file.text.contains(DiagFixture.home), "\(file.name) keeps the home directory")
        }
        let log = try Self.text(files, "cpsd.log")
        #expect(log.contains("serial=<serial>"))
        #expect(log.contains("~/.config/cpsd/cpsd.conf"))
    }

    @Test("--no-redact keeps what the run saw")
    func notRedacted() async throws {
        let (runner, report) = try await Self.cardRun()
        let files = try DiagBundle(report: report, runner: runner, redact: false, cpsdLog: "/var/log/cpsd.log").files()
        let reportText = try Self.text(files, "report.txt")
        let serial = try #require(runner.serial)
        #expect(reportText.contains(serial))
        #expect(try Self.text(files, "cpsd.log").contains("serial=12345678"))
    }

    @Test("a log file that cannot be read says so in the bundle")
    func unreadableLog() async throws {
        let (runner, report) = try await Self.cardRun()
        let files = try DiagBundle(report: report, runner: runner, redact: true, cpsdLog: "/nowhere.log").files()
        #expect(try Self.text(files, "cpsd.log") == "cannot read /nowhere.log\n")
    }

    @Test("without a log file, the user journal's last 500 lines, redacted; no journalctl, no log file")
    func journal() async throws {
        let fixture = DiagFixture()
        fixture.files.addExecutable("/usr/bin/journalctl")
        fixture.programs.answer(
            "/usr/bin/journalctl", ["--user", "-u", "cpsd", "-n", "500", "--no-pager"], output: "cpsd[1]: token CPS3v3-0123456789\n")
        let runner = fixture.runner()
        let report = await runner.run()
        let files = try DiagBundle(report: report, runner: runner, redact: true, cpsdLog: nil).files()
        #expect(try Self.text(files, "cpsd.log") == "cpsd[1]: token CPS3v3-<serial>\n")

        let bare = DiagFixture().runner()
        let bareFiles = try DiagBundle(report: await bare.run(), runner: bare, redact: true, cpsdLog: nil).files()
        #expect(!bareFiles.contains { $0.name == "cpsd.log" })
    }
}
