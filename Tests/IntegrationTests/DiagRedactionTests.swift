import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// `cpsctl diag --bundle` on the real stack with a running cpsd (bridge on, so its CA and settings live in
/// the home): no identifier of the user or the card in any file of the redacted bundle, the same
/// identifiers present in the `--no-redact` one (so the check is not vacuous), and the bundle still
/// useful: the same checks with the same statuses and summary, reader names and counters readable.
@Suite("cpsctl diag --bundle: redaction on the real stack")
struct DiagRedactionTests {
    static let login = "jdupont7"

    /// A home at …/home/LOGIN, as on a real machine, with the environment diag and cpsd run in.
    static func home() -> (URL, [String: String]) {
        let home = TestCards.temporaryDirectory("cpsd-redact").appendingPathComponent("home/\(login)")
        try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let environment = [
            "HOME": home.path, "USER": login, "LOGNAME": login,
            "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path,
            "XDG_STATE_HOME": home.appendingPathComponent(".local/state").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
            "XDG_RUNTIME_DIR": home.path, "P11_KIT_SERVER_ADDRESS": "unix:path=\(home.path)/p11-kit/pkcs11",
        ]
        return (home, environment)
    }

    /// Every file of the bundle at `archive`, by name, extracted under `directory`.
    static func files(of archive: String, in directory: URL) throws -> [String: String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let extracted = try ToolRunner.run("/bin/tar", ["-xzf", archive, "-C", directory.path])
        #expect(extracted.status == 0, "\(extracted.output)")
        var files: [String: String] = [:]
        let root = directory.appendingPathComponent("cpsd-diag")
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path) {
            files[name] = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    /// report.json's checks as id → status, and its summary.
    static func checks(_ json: String?) throws -> ([String: String], [String: Int]) {
        let object = try JSONSerialization.jsonObject(with: Data((json ?? "").utf8)) as? [String: Any]
        let report = try #require(object, "report.json is not JSON")
        var statuses: [String: String] = [:]
        for check in report["checks"] as? [[String: Any]] ?? [] {
            if let id = check["id"] as? String { statuses[id] = check["status"] as? String }
        }
        let summary = (report["summary"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
        return (statuses, summary)
    }

    @Test("no serial, token label, home, login, holder name or idNat in any file; same checks, statuses and counts")
    func bundleOnRealStack() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try stack.insertFreshCard(reader: 1)
            let holder = TestCards.defaultState.holder
            // The serial as cpsd and diag print it (8 digits on the virtual card), and the token label.
            let info = try ToolRunner.run(
                DiagRun.cpsctl, ["card", "info", "--json", "--direct", "--reader", stack.readerName(0)], environment: stack.environment)
            let card = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
            let serial = try #require(card["serialNumber"] as? String)
            let (home, environment) = Self.home()
            let port = try DiagBridgeTests.port()
            DiagRun.writeConfig(["bridge-port = \(port)"], home: home)  // diag reads the port from cpsd.conf
            let daemon = try DiagBridgeTests.daemon(stack, environment, [])
            defer { daemon.stop() }
            #expect(daemon.log.contains("serial=\(serial)"), "cpsd's log should name the card: \(daemon.logTail())")

            let directory = TestCards.temporaryDirectory("cpsd-redact-bundle")
            var bundles: [Bool: [String: String]] = [:]
            for redact in [false, true] {
                let name = redact ? "redacted" : "plain"
                let archive = directory.appendingPathComponent("\(name).tar.gz").path
                let arguments = ["--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath, "--cpsd-log", daemon.logPath]
                let run = try DiagRun.run(stack, arguments + ["--bundle", archive] + (redact ? [] : ["--no-redact"]), environment: environment)
                #expect(run.stderr.contains("Support bundle: \(archive)"), "\(run.stderr)")
                bundles[redact] = try Self.files(of: archive, in: directory.appendingPathComponent(name))
            }
            let plain = try #require(bundles[false])
            let redacted = try #require(bundles[true])
            #expect(Set(redacted.keys) == ["report.txt", "report.json", "versions.txt", "cpsd.log"])

            let present = [serial, home.path, Self.login, holder.givenName, holder.surname, holder.idNat]
            let plainText = plain.values.joined(separator: "\n")
            for identifier in present {
                #expect(plainText.contains(identifier), "\(identifier) is not even in the unredacted bundle")
            }
            for identifier in present + [DaemonTest.tokenLabel, String(holder.idNat.dropFirst())] {
                for (file, text) in redacted {
                    #expect(text.range(of: identifier, options: .caseInsensitive) == nil, "\(identifier) in \(file)")
                }
            }

            // Still useful: the same checks with the same statuses and summary, readers and counters readable.
            let (plainChecks, plainSummary) = try Self.checks(plain["report.json"])
            let (redactedChecks, redactedSummary) = try Self.checks(redacted["report.json"])
            #expect(redactedChecks == plainChecks)
            #expect(redactedSummary == plainSummary && !redactedSummary.isEmpty)
            let report = redacted["report.txt"] ?? ""
            #expect(report.contains("\"\(stack.readerName(0))\""), "\(report)")
            #expect(report.contains("PIN 3 of 3 tries left"), "\(report)")
            #expect(report.contains("cpsd answers at ~/") || report.contains("cpsd answers at /tmp/cpsd-dp-"), "\(report)")
            #expect(redacted["cpsd.log"]?.contains("pin_tries_left=3") == true)
            #expect(redacted["cpsd.log"]?.contains("serial=<") == true)
        }
    }
}
