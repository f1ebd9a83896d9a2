import CardTestSupport
import Foundation
import Testing

/// `cpsctl diag` on a really healthy installation: the real stack with a fresh card, cpsd with its bridge,
/// `cpsctl setup` done (module registered and bridge CA trusted in the Chromium NSS database), the
/// extension in a Chromium profile, cpsd's module registered once with p11-kit and no other smart-card
/// module loaded next to it. It must print "all ok" and exit 0.
@Suite("cpsctl diag: a healthy installation")
struct DiagHealthyTests {
    /// p11-kit files the test puts in /etc/pkcs11/modules (p11-kit reads no user configuration as root).
    /// This machine's opensc package registers OpenSC's module for every p11-kit consumer, which diag
    /// rightly reports (p11-kit-proxy and GnuTLS programs would load it next to cpsd's); the healthy
    /// installation disables it the way diag's remedy says: a file of the same name with an empty
    /// `module:` line, which overrides /usr/share/p11-kit/modules/opensc-pkcs11.module.
    static let moduleFiles = [
        "cpsd-diag-healthy.module": "module: \(DaemonProcess.clientModule)\n",
        "opensc-pkcs11.module": "# cpsd test: OpenSC disabled for p11-kit while diag's healthy test runs\nmodule:\n",
    ]

    static func withModuleFiles<R>(_ body: () throws -> R) throws -> R {
        let directory = "/etc/pkcs11/modules"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let written = moduleFiles.keys.filter { !FileManager.default.fileExists(atPath: "\(directory)/\($0)") }
        #expect(written.count == moduleFiles.count, "a module file of the same name is already in \(directory)")
        defer {
            for name in written { try? FileManager.default.removeItem(atPath: "\(directory)/\(name)") }
        }
        for name in written {
            try moduleFiles[name]!.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        return try body()
    }

    @Test("stack + cpsd with bridge + setup + extension + one p11-kit module: all ok, exit 0 (and how long it takes)")
    func allOK() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try stack.insertFreshCard(reader: 1)
            let before = DiagRun.counters(stack)
            var (home, environment) = DiagRun.home()
            environment["XDG_SESSION_TYPE"] = "x11"
            let setup = try ToolRunner.run(DiagRun.cpsctl, ["setup"], environment: environment)
            #expect(setup.status == 0, "\(setup.output)")
            let chromium = home.appendingPathComponent(".config/chromium/Default")
            try FileManager.default.createDirectory(at: chromium, withIntermediateDirectories: true)
            try #"{"extensions":{"settings":{"bbdifahjkphgjdfopbedhkhkaijgdhbk":{"state":1,"location":1}}}}"#
                .write(to: chromium.appendingPathComponent("Preferences"), atomically: true, encoding: .utf8)
            let port = try DiagBridgeTests.port()
            let daemon = try DiagBridgeTests.daemon(stack, environment, ["--bridge-port", "\(port)"])
            defer { daemon.stop() }
            let arguments = ["--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath]
            try Self.withModuleFiles {
                let run = try DiagRun.run(stack, arguments, environment: environment)
                let notOK = run.checks.filter { $0.value["status"] as? String != "ok" }
                    .map { "\($0.key): \($0.value["status"] ?? "?") \($0.value["finding"] ?? "")" }
                #expect(notOK.isEmpty, "\(notOK.joined(separator: "\n"))")
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.summary["overall"] as? String == "ok")
                #expect(run.checks.count == 24)

                let text = try ToolRunner.run(DiagRun.cpsctl, ["diag"] + arguments, environment: stack.environment.merging(environment) { $1 })
                #expect(text.status == 0)
                #expect(text.stdout.contains("Summary: all ok (24 ok, 0 warn, 0 fail, 0 skipped)"), "\(text.stdout)")

                // The figure for the issue's "under 2 seconds": printed, never asserted.
                var times: [Double] = []
                for _ in 0..<5 {
                    let start = Date()
                    _ = try ToolRunner.run(DiagRun.cpsctl, ["diag"] + arguments, environment: stack.environment.merging(environment) { $1 })
                    times.append(Date().timeIntervalSince(start))
                }
                times.sort()
                print(String(format: "DIAG healthy stack: cpsctl diag median %.0f ms, max %.0f ms (5 runs)", times[2] * 1000, times[4] * 1000))
            }
            #expect(DiagRun.counters(stack) == before)
        }
    }
}
