import Foundation
import LocalCA
import Testing

@testable import Diagnostics

/// bridge.ca and browsers.module: the local CA's validity and its trust, and cpsd's module, in the NSS
/// databases, with certutil and modutil answering from a table.
@Suite("diag: the bridge's CA and the browsers' module")
struct BridgeCATests {
    static let database = "\(DiagFixture.home)/.pki/nssdb"

    /// A fixture with Chromium's NSS database, certutil and modutil, and a CA of `lifetime` at cpsd's path.
    static func fixture(lifetime: TimeInterval = 10 * 365 * 86_400) throws -> (DiagFixture, String) {
        let fixture = DiagFixture()
        fixture.files.write("\(database)/cert9.db", "")
        fixture.files.addExecutable("/usr/bin/certutil")
        fixture.files.addExecutable("/usr/bin/modutil")
        let identity = try LocalCertificateAuthority.issue(commonName: "test", now: DiagFixture.fixedNow, lifetime: lifetime)
        let pem = try identity.caCertificatePEM
        let store = LocalIdentityStore(directory: LocalIdentityStore.defaultDirectory(environment: fixture.variables))
        fixture.files.write(store.caPath, pem)
        return (fixture, pem)
    }

    static func certutilListing(_ fixture: DiagFixture, status: Int32, output: String) {
        fixture.programs.answer(
            "/usr/bin/certutil", ["-L", "-d", "sql:\(database)", "-n", BridgeTrust.nickname, "-a"], status: status, output: output)
    }

    @Test("the CA trusted in the database: ok, with its expiry and where")
    func trusted() throws {
        let (fixture, pem) = try Self.fixture()
        Self.certutilListing(fixture, status: 0, output: pem)
        let runner = fixture.runner()
        runner.bridgeCACheck(listening: true)
        let check = try #require(runner.check("bridge.ca"))
        #expect(check.status == .ok)
        #expect(check.finding.hasSuffix("trusted in Chromium \(Self.database)"))
        #expect(runner.untrustedCADatabases.isEmpty)
    }

    @Test("the CA not trusted: a warning, and --fix is given the database and the CA")
    func untrusted() throws {
        let (fixture, pem) = try Self.fixture()
        Self.certutilListing(fixture, status: 255, output: "certutil: Could not find cert")
        let runner = fixture.runner()
        runner.bridgeCACheck(listening: true)
        let check = try #require(runner.check("bridge.ca"))
        #expect(check.status == .warn)
        #expect(check.remedy?.hasPrefix("cpsctl setup") == true)
        #expect(runner.untrustedCADatabases.map(\.directory) == [Self.database])
        #expect(runner.bridgeCAPEM == pem)
    }

    @Test("a CA expiring within the renewal window: a warning to restart cpsd")
    func expiringSoon() throws {
        let (fixture, pem) = try Self.fixture(lifetime: 10 * 86_400)
        Self.certutilListing(fixture, status: 0, output: pem)
        let runner = fixture.runner()
        runner.bridgeCACheck(listening: true)
        let check = try #require(runner.check("bridge.ca"))
        #expect(check.status == .warn)
        #expect(check.finding.contains("(expires in 9 day(s))") || check.finding.contains("(expires in 10 day(s))"))
    }

    @Test("no CA while the bridge runs: a failure; while it does not: skipped")
    func missingCA() throws {
        let fixture = DiagFixture()
        let running = fixture.runner()
        running.bridgeCACheck(listening: true)
        #expect(running.check("bridge.ca")?.status == .fail)
        let stopped = fixture.runner()
        stopped.bridgeCACheck(listening: false)
        #expect(stopped.check("bridge.ca")?.status == .skip)
    }

    @Test("browsers.module: registered per modutil's listing is ok; missing is a warning and a --fix target")
    func moduleRegistration() throws {
        let (fixture, _) = try Self.fixture()
        let listing = ["-dbdir", "sql:\(Self.database)", "-list"]
        fixture.programs.answer("/usr/bin/modutil", listing, output: "  1. \(BrowserRegistration.moduleName)\n")
        let registered = fixture.runner()
        registered.browserChecks()
        #expect(registered.check("browsers.module")?.status == .ok)
        #expect(registered.missingBrowserDatabases.isEmpty)

        fixture.programs.answer("/usr/bin/modutil", listing, output: "  1. NSS Internal PKCS #11 Module\n")
        let missing = fixture.runner()
        missing.browserChecks()
        #expect(missing.check("browsers.module")?.status == .warn)
        #expect(missing.missingBrowserDatabases.map(\.directory) == [Self.database])
    }
}
