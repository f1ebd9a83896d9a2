import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// `cpsctl diag`: cpsd, p11-kit registration, browsers and --fix, the JSON schema, the support bundle.
@Suite("cpsctl diag: cpsd, registration, schema, bundle")
struct DiagSetupTests {
    static let moduleDirectory = "/etc/pkcs11/modules"

    /// Writes p11-kit .module files for p11-kit-client.so named `names`, runs `body`, removes them.
    static func withModules<R>(_ names: [String], _ body: () async throws -> R) async throws -> R {
        let createdDirectory = !FileManager.default.fileExists(atPath: moduleDirectory)
        try FileManager.default.createDirectory(atPath: moduleDirectory, withIntermediateDirectories: true)
        let paths = names.map { "\(moduleDirectory)/\($0).module" }
        defer {
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
            if createdDirectory { try? FileManager.default.removeItem(atPath: moduleDirectory) }
        }
        for path in paths {
            try "module: \(DaemonProcess.clientModule)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
        return try await body()
    }

    @Test("cpsd running, module registered once in p11-kit and in the browser database: those checks are ok")
    func daemonAndRegistration() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let (home, environment) = DiagRun.home()
            let setup = try ToolRunner.run(DiagRun.cpsctl, ["setup"], environment: environment)
            #expect(setup.status == 0, "\(setup.output)")
            let daemon = try DaemonProcess(environment: stack.environment)
            defer { daemon.stop() }
            try await Self.withModules(["cpsd-diag-test"]) {
                let before = DiagRun.counters(stack)
                let run = try DiagRun.run(
                    stack, ["--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath], environment: environment)
                #expect(run.status("cpsd.running") == "ok", "\(run.finding("cpsd.running"))")
                #expect(run.finding("cpsd.running").contains("pid \(daemon.pid)"))
                #expect(run.status("p11kit.module") == "ok", "\(run.finding("p11kit.module"))")
                #expect(run.status("browsers.module") == "ok", "\(run.finding("browsers.module"))")
                #expect(run.finding("browsers.module").contains(home.appendingPathComponent(".pki/nssdb").path))
                #expect(run.status("card.identity") == "ok", "\(run.finding("card.identity"))")
                #expect(run.status("pin.tries") == "ok")
                #expect(DiagRun.counters(stack) == before)
            }
        }
    }

    @Test("module not registered, then registered twice: p11kit.module warns each time")
    func moduleRegistration() async throws {
        try await RealStack.withStack { stack in
            let none = try DiagRun.run(stack, [])
            #expect(none.status("p11kit.module") == "warn")
            #expect(none.finding("p11kit.module").contains("not registered"))
            try await Self.withModules(["cpsd-diag-a", "cpsd-diag-b"]) {
                let twice = try DiagRun.run(stack, [])
                #expect(twice.status("p11kit.module") == "warn")
                #expect(twice.finding("p11kit.module").contains("2 times"))
                #expect(twice.finding("p11kit.module").contains("cpsd-diag-a"))
            }
        }
    }

    @Test("browser database without the module: warn; --fix --yes registers it and says so")
    func browserFix() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            let nssdb = home.appendingPathComponent(".pki/nssdb").path
            try FileManager.default.createDirectory(atPath: nssdb, withIntermediateDirectories: true)
            let created = try ToolRunner.run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(nssdb)"])
            #expect(created.status == 0, "\(created.output)")
            let missing = try DiagRun.run(stack, [], environment: environment)
            #expect(missing.status("browsers.module") == "warn")
            #expect(missing.remedy("browsers.module").contains("cpsctl setup"))
            // Without --yes and without a terminal, nothing changes.
            let refused = try DiagRun.run(stack, ["--fix"], environment: environment)
            #expect(refused.status("browsers.module") == "warn")
            let fixed = try DiagRun.run(stack, ["--fix", "--yes"], environment: environment)
            #expect(fixed.stderr.contains("--fix: registered"), "\(fixed.stderr)")
            #expect(fixed.status("browsers.module") == "ok", "\(fixed.finding("browsers.module"))")
            let listing = try ToolRunner.run("/usr/bin/modutil", ["-dbdir", "sql:\(nssdb)", "-list"])
            #expect(listing.stdout.contains("CPS (cpsd)"))
        }
    }

    @Test("--json validates against Packaging/diag/diag-schema-v1.json")
    func schema() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            // Structural check, always.
            let checks = try #require(run.json["checks"] as? [[String: Any]])
            #expect(checks.count >= 19)
            let statuses = ["ok", "warn", "fail", "skip"]
            for check in checks {
                let id = try #require(check["id"] as? String)
                #expect(id.split(separator: ".").first.map(String.init) == check["category"] as? String)
                #expect(statuses.contains(check["status"] as? String ?? ""), "\(id)")
                #expect((check["finding"] as? String)?.isEmpty == false, "\(id)")
                #expect((check["status"] as? String == "ok") == (check["remedy"] == nil) || check["status"] as? String == "skip", "\(id)")
            }
            for status in statuses {
                #expect(run.summary[status] as? Int == checks.filter { $0["status"] as? String == status }.count)
            }
            // Every id diag prints is documented in the schema's list of ids.
            let schemaText = try String(
                contentsOf: DiagRun.repositoryRoot.appendingPathComponent("Packaging/diag/diag-schema-v1.json"), encoding: .utf8)
            for id in run.checks.keys { #expect(schemaText.contains(" \(id),") || schemaText.contains(" \(id). "), "\(id) not listed in the schema") }
            // jsonschema, when python3 on PATH has it.
            guard try ToolRunner.shell("python3 -c 'import jsonschema'").status == 0 else { return }
            let directory = TestCards.temporaryDirectory("cpsd-diag-json")
            let report = directory.appendingPathComponent("report.json")
            try run.stdout.write(to: report, atomically: true, encoding: .utf8)
            let schemaPath = DiagRun.repositoryRoot.appendingPathComponent("Packaging/diag/diag-schema-v1.json").path
            let script = "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')"
            let valid = try ToolRunner.run("/bin/sh", ["-c", "python3 -c \"$0\" \"$1\" \"$2\"", script, report.path, schemaPath])
            #expect(valid.status == 0, "\(valid.output)")
            #expect(valid.stdout.contains("valid"))
            // And a broken report is refused (the schema is not vacuous).
            let broken = run.stdout.replacingOccurrences(of: "\"cpsd-diag/1\"", with: "\"cpsd-diag/9\"")
            try broken.write(to: report, atomically: true, encoding: .utf8)
            let refused = try ToolRunner.run("/bin/sh", ["-c", "python3 -c \"$0\" \"$1\" \"$2\"", script, report.path, schemaPath])
            #expect(refused.status != 0)
        }
    }

    @Test("--bundle: report, versions and cpsd log, without the holder's idNat, names or serial unless --no-redact")
    func bundle() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let holder = TestCards.defaultState.holder
            // The serial as the card reports it (from its PAN), which is what diag prints.
            let info = try ToolRunner.run(
                DiagRun.cpsctl, ["card", "info", "--json", "--direct", "--reader", stack.readerName(0)], environment: stack.environment)
            let card = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
            let serial = try #require(card["serialNumber"] as? String)
            let certificateSerials = (card["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serialNumber"] as? String }
            #expect(!certificateSerials.isEmpty)
            let secrets = [holder.idNat, holder.givenName, holder.surname, serial]
            let directory = TestCards.temporaryDirectory("cpsd-diag-bundle")
            let log = directory.appendingPathComponent("cpsd.log")
            try "card \(serial) certificate \(certificateSerials.joined(separator: " ")) holder \(holder.givenName) \(holder.surname) idNat \(holder.idNat) FINESS 750712184 SIRET 12345678901234 other RPPS 810001234567 ADELI 0751234567\n"
                .write(to: log, atomically: true, encoding: .utf8)
            for redact in [true, false] {
                let archive = directory.appendingPathComponent(redact ? "redacted.tar.gz" : "plain.tar.gz").path
                let run = try DiagRun.run(
                    stack, ["--reader", stack.readerName(0), "--cpsd-log", log.path, "--bundle", archive] + (redact ? [] : ["--no-redact"]))
                #expect(run.status == 1, "\(run.stderr)")
                let listing = try ToolRunner.run("/bin/tar", ["-tzf", archive])
                for name in ["report.txt", "report.json", "versions.txt", "cpsd.log"] {
                    #expect(listing.stdout.contains("cpsd-diag/\(name)"), "\(name): \(listing.output)")
                }
                let out = directory.appendingPathComponent(redact ? "redacted" : "plain")
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                #expect(try ToolRunner.run("/bin/tar", ["-xzf", archive, "-C", out.path]).status == 0)
                var text = ""
                for name in ["report.txt", "report.json", "versions.txt", "cpsd.log"] {
                    text += try String(contentsOf: out.appendingPathComponent("cpsd-diag/\(name)"), encoding: .utf8)
                }
                #expect(text.contains("card.identity"))
                for secret in secrets + certificateSerials + ["750712184", "12345678901234", "810001234567", "0751234567"] {
                    #expect(text.contains(secret) != redact, "\(secret) redact=\(redact)")
                }
                if redact { #expect(text.contains("<redacted>")) }
            }
        }
    }
}
