import CardTestSupport
import Foundation
import Testing

/// `cpsctl setup` registers cpsd's module (p11-kit-client.so) in a user's browsers, and `--undo` removes it.
@Suite("cpsctl setup")
struct SetupTests {
    static let cpsctl = ToolRunner.executable("cpsctl")

    @Test("Firefox profiles and Chromium's NSS database get the module once; --undo removes it")
    func registerAndUndo() throws {
        let home = TestCards.temporaryDirectory("cpsd-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let profile = home.appendingPathComponent(".mozilla/firefox/abcd.default-esr")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        try "[Profile0]\nName=default-esr\nIsRelative=1\nPath=abcd.default-esr\nDefault=1\n".write(
            to: home.appendingPathComponent(".mozilla/firefox/profiles.ini"), atomically: true, encoding: .utf8)
        #expect(try ToolRunner.run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(profile.path)"]).status == 0)
        let env = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path]
        let chromium = home.appendingPathComponent(".pki/nssdb").path

        let setup = try ToolRunner.run(Self.cpsctl, ["setup"], environment: env)
        #expect(setup.status == 0, "\(setup.output)")
        for database in [profile.path, chromium] {
            let listing = try ToolRunner.run("/usr/bin/modutil", ["-dbdir", "sql:\(database)", "-list"])
            #expect(listing.stdout.contains("CPS (cpsd)"), "\(database)")
            #expect(listing.stdout.contains("p11-kit-client.so"))
        }
        let again = try ToolRunner.run(Self.cpsctl, ["setup"], environment: env)
        #expect(again.stdout.contains("already registered"))
        let listing = try ToolRunner.run("/usr/bin/modutil", ["-dbdir", "sql:\(chromium)", "-list"])
        #expect(listing.stdout.components(separatedBy: "CPS (cpsd)").count == 2, "registered exactly once")

        let undo = try ToolRunner.run(Self.cpsctl, ["setup", "--undo"], environment: env)
        #expect(undo.status == 0, "\(undo.output)")
        for database in [profile.path, chromium] {
            let after = try ToolRunner.run("/usr/bin/modutil", ["-dbdir", "sql:\(database)", "-list"])
            #expect(!after.stdout.contains("CPS (cpsd)"), "\(database)")
        }
    }

    @Test("the bridge's local CA is trusted for websites in every database, replaced when renewed, removed by --undo")
    func bridgeCA() throws {
        let home = TestCards.temporaryDirectory("cpsd-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let dataHome = home.appendingPathComponent(".local/state")
        let env = ["HOME": home.path, "XDG_STATE_HOME": dataHome.path]
        let chromium = home.appendingPathComponent(".pki/nssdb").path
        let caFile = dataHome.appendingPathComponent("cpsd/bridge/ca.pem").path

        let setup = try ToolRunner.run(Self.cpsctl, ["setup"], environment: env)
        #expect(setup.status == 0, "\(setup.output)")
        #expect(setup.stdout.contains("bridge CA trusted"))
        let trusted = try ToolRunner.run("/usr/bin/certutil", ["-L", "-d", "sql:\(chromium)"])
        let line = trusted.stdout.split(separator: "\n").first { $0.contains("cpsd local bridge CA") }
        #expect(line?.trimmingCharacters(in: .whitespaces).hasSuffix(" C,,") == true, "trusted for TLS servers only: \(trusted.stdout)")
        let held = try ToolRunner.run("/usr/bin/certutil", ["-L", "-d", "sql:\(chromium)", "-n", "cpsd local bridge CA", "-a"])
        let onDisk = try String(contentsOfFile: caFile, encoding: .utf8)
        #expect(Self.body(held.stdout) == Self.body(onDisk), "the CA cpsd will use")

        // A renewed CA (the files replaced) is trusted instead of the old one on the next setup.
        try FileManager.default.removeItem(atPath: dataHome.appendingPathComponent("cpsd/bridge").path)
        let renewed = try ToolRunner.run(Self.cpsctl, ["setup"], environment: env)
        #expect(renewed.stdout.contains("bridge CA trusted"), "\(renewed.output)")
        let newCA = try String(contentsOfFile: caFile, encoding: .utf8)
        #expect(Self.body(newCA) != Self.body(onDisk))
        let listing = try ToolRunner.run("/usr/bin/certutil", ["-L", "-d", "sql:\(chromium)"])
        #expect(listing.stdout.components(separatedBy: "cpsd local bridge CA").count == 2, "one CA, the new one")
        let again = try ToolRunner.run(Self.cpsctl, ["setup"], environment: env)
        #expect(again.stdout.contains("bridge CA already trusted"))

        let undo = try ToolRunner.run(Self.cpsctl, ["setup", "--undo"], environment: env)
        #expect(undo.status == 0, "\(undo.output)")
        let after = try ToolRunner.run("/usr/bin/certutil", ["-L", "-d", "sql:\(chromium)"])
        #expect(!after.stdout.contains("cpsd local bridge CA"))
    }

    static func body(_ pem: String) -> String {
        pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
    }
}
