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
}
