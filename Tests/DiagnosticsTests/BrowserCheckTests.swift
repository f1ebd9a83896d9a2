import BridgeProtocol
import Testing

@testable import Diagnostics

/// bridge.extension (from the browsers' profile files) and browsers.module (as far as no NSS tool runs).
@Suite("diag: the browsers")
struct BrowserCheckTests {
    static let profile = "\(DiagFixture.home)/.config/chromium/Default"

    static func chromiumPreferences(_ entry: String?) -> String {
        let settings = entry.map { #"{"\#(BridgeExtensionIDs.chromium)": \#($0)}"# } ?? "{}"
        return #"{"extensions": {"settings": \#(settings)}}"#
    }

    static func extensionCheck(_ fixture: DiagFixture) throws -> DiagCheck {
        let runner = fixture.runner()
        runner.extensionCheck(BridgeSettings(configPath: "\(DiagFixture.home)/.config/cpsd/cpsd.conf"))
        return try #require(runner.check("bridge.extension"))
    }

    @Test("no browser profile: the extension check is skipped")
    func noProfile() throws {
        #expect(try Self.extensionCheck(DiagFixture()).status == .skip)
    }

    @Test("the extension enabled in a Chromium profile: ok, naming the profile")
    func enabled() throws {
        let fixture = DiagFixture()
        fixture.files.write("\(Self.profile)/Preferences", Self.chromiumPreferences(#"{"state": 1}"#))
        let check = try Self.extensionCheck(fixture)
        #expect(check.status == .ok)
        #expect(check.finding == "the cpsd extension is installed in Chromium \(Self.profile)")
    }

    @Test("the extension disabled (disable_reasons): a failure saying where to enable it")
    func disabled() throws {
        let fixture = DiagFixture()
        fixture.files.write("\(Self.profile)/Preferences", Self.chromiumPreferences(#"{"disable_reasons": [1]}"#))
        let check = try Self.extensionCheck(fixture)
        #expect(check.status == .fail)
        #expect(check.remedy?.contains("chrome://extensions") == true)
    }

    @Test("a profile without the extension: a warning giving both extension ids")
    func absent() throws {
        let fixture = DiagFixture()
        fixture.files.write("\(Self.profile)/Preferences", Self.chromiumPreferences(nil))
        let check = try Self.extensionCheck(fixture)
        #expect(check.status == .warn)
        #expect(check.remedy?.contains(BridgeExtensionIDs.chromium) == true)
        #expect(check.remedy?.contains(BridgeExtensionIDs.firefox) == true)
    }

    @Test("browsers.module: skipped without an NSS database, and without modutil to read one")
    func moduleCheckSkips() throws {
        let fixture = DiagFixture()
        let none = fixture.runner()
        none.browserChecks()
        #expect(none.check("browsers.module")?.finding == "no Firefox profile or Chromium NSS database for this user")
        fixture.files.write("\(DiagFixture.home)/.pki/nssdb/cert9.db", "")
        let noTool = fixture.runner()
        noTool.browserChecks()
        #expect(noTool.check("browsers.module")?.status == .skip)
        #expect(noTool.check("browsers.module")?.finding.hasPrefix("modutil is missing") == true)
    }
}
