import CardTestSupport
import Foundation
import Glibc
import Testing

/// Where the WebExtension and the browser fixtures are, and the browser suites' shared lock: one
/// headless Chromium at a time (two cores; other suites run meanwhile).
enum WebExtensionTest {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized
    static let extensionDirectory = repository.appendingPathComponent("Packaging/webextension")
    static let pageLibrary = extensionDirectory.appendingPathComponent("page/cps-bridge.js")
    static let driverScript = repository.appendingPathComponent("Tests/Fixtures/WebExtension/browser-driver.py")
    /// The id Chromium derives from the manifest's `key` (docs/bridge-protocol.md).
    static let extensionID = "bbdifahjkphgjdfopbedhkhkaijgdhbk"
    /// Firefox's add-on id (browser_specific_settings.gecko.id).
    static let firefoxAddonID = "cpsd-bridge@cpsd.invalid"

    private static let lock = AsyncLock()

    static func exclusive<R>(_ body: () async throws -> R) async throws -> R {
        await lock.acquire()
        do {
            let result = try await body()
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    /// A TCP port nothing listens on right now.
    static func freePort() throws -> Int { Int(try DaemonTest.freePort()) }

    /// Points the extension at the bridge's `port` through its popup, as a user would.
    static func setBridgePort(_ port: Int, _ driver: BrowserDriver) throws {
        try driver.open(driver.popupURL)
        guard try driver.wait("body", matching: "^true$", attribute: "data-ready") != nil else {
            throw BrowserTestError("the popup never showed the status")
        }
        _ = try driver.run("document.querySelector('#settings').open = true;")
        try driver.type("#port", String(port))
        try driver.click("#port-save")
        guard try driver.wait("#message", matching: "^port-saved$", attribute: "data-code") != nil else {
            throw BrowserTestError("the popup did not save the port")
        }
    }
}

struct BrowserTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The browsers the extension is tested in.
enum Browser: String, CaseIterable, CustomStringConvertible, Sendable {
    case chromium, firefox
    var description: String { rawValue }
}

/// A temporary HOME for the browsers (and cpsd, in the login tests). The NSS databases are the only trust
/// stores the browsers add to the system's, so certificates are trusted there (never an ignored
/// certificate error): Chromium's `~/.pki/nssdb` and a Firefox profile listed in profiles.ini, where
/// `cpsctl setup` finds it.
struct WebExtensionHome {
    let home: URL
    var chromiumDatabase: String { home.appendingPathComponent(".pki/nssdb").path }
    var firefoxProfile: String { home.appendingPathComponent(".mozilla/firefox/cpsdtest.default-esr").path }
    var environment: [String: String] {
        [
            "HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
            "XDG_STATE_HOME": home.appendingPathComponent(".local/state").path,
        ]
    }

    /// Empty NSS databases, as the browsers' first start leaves them.
    init() throws {
        home = TestCards.temporaryDirectory("cpsd-browser")
        for database in [chromiumDatabase, firefoxProfile] {
            try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
            let result = try ToolRunner.run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(database)"])
            guard result.status == 0 else { throw BrowserTestError("certutil -N: \(result.output)") }
        }
        try "[Profile0]\nName=default-esr\nIsRelative=1\nPath=cpsdtest.default-esr\nDefault=1\n".write(
            to: home.appendingPathComponent(".mozilla/firefox/profiles.ini"), atomically: true, encoding: .utf8)
    }

    func profile(for browser: Browser) -> String {
        browser == .firefox ? firefoxProfile : home.appendingPathComponent("chromium-profile").path
    }

    /// `cpsctl setup` as the user runs it: cpsd's module, and the bridge's CA once cpsd has made it.
    func cpsctlSetup() throws -> ToolRunner.Result {
        try ToolRunner.run(ToolRunner.executable("cpsctl"), ["setup"], environment: environment)
    }

    /// Trusts `caPEM` for TLS servers in both browsers' databases.
    func trust(caPEM path: String, nickname: String) throws {
        for database in [chromiumDatabase, firefoxProfile] {
            let result = try ToolRunner.run(
                "/usr/bin/certutil", ["-A", "-d", "sql:\(database)", "-n", nickname, "-t", "C,,", "-i", path])
            guard result.status == 0 else { throw BrowserTestError("certutil -A \(nickname): \(result.output)") }
        }
    }

    func remove() { try? FileManager.default.removeItem(at: home) }
}

/// A throwaway CA and its leaf for `localhost`/127.0.0.1, for the test pages' HTTPS server.
struct TestServerPKI {
    let caPath: String
    let certificatePath: String
    let keyPath: String

    init(in directory: URL) throws {
        let dir = directory.path
        caPath = "\(dir)/ca.pem"
        certificatePath = "\(dir)/server.pem"
        keyPath = "\(dir)/server.key"
        let config = """
            [req]
            distinguished_name = dn
            [dn]
            [ca]
            basicConstraints = critical,CA:true
            keyUsage = critical,keyCertSign,cRLSign
            [leaf]
            basicConstraints = CA:false
            keyUsage = digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost,IP:127.0.0.1
            """
        try config.write(toFile: "\(dir)/pki.cnf", atomically: true, encoding: .utf8)
        let make = try ToolRunner.shell(
            "cd \(dir) && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=cpsd test pages CA' "
                + "-keyout ca.key -out ca.pem -config pki.cnf -extensions ca "
                + "&& openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr "
                + "-config pki.cnf && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                + "-days 2 -out server.pem -extfile pki.cnf -extensions leaf && rm ca.key")
        guard make.status == 0 else { throw BrowserTestError("test PKI: \(make.output)") }
    }
}

/// `openssl s_server -WWW`: the files of `root` over HTTPS on https://localhost:PORT/.
final class StaticHTTPSServer {
    let port: Int
    private let process = Process()
    private let input = Pipe()

    init(root: URL, pki: TestServerPKI) throws {
        port = try WebExtensionTest.freePort()
        let log = root.appendingPathComponent("../s_server.log").standardized.path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.certificatePath, "-key", pki.keyPath, "-WWW",
        ]
        process.currentDirectoryURL = root
        process.standardInput = input  // s_server stops at the end of its input: kept open until stop()
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = process.standardOutput
        try process.run()
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("ACCEPT") { return }
            usleep(50_000)
        }
        stop()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw BrowserTestError("openssl s_server did not start: \(output)")
    }

    var origin: String { "https://localhost:\(port)" }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
