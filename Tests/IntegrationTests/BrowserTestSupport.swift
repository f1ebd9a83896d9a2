import CardTestSupport
import Foundation
import Glibc
import Testing

/// The pieces of a browser login by TLS client authentication: a user's HOME set up by `cpsctl setup`,
/// a local HTTPS server that requires a card certificate, Chromium's managed policy, and the python
/// drivers of Tests/Fixtures/BrowserTLS that run the real browsers.
enum BrowserTLS {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/BrowserTLS").standardized.path
    static let testTrust = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Packaging/trust/test").standardized.path
    static let python = "/usr/bin/python3"

    /// Nil when every file exists, else a failure message that says how to install what is missing.
    static func missing(_ files: [String]) -> String? {
        let absent = files.filter { !FileManager.default.fileExists(atPath: $0) }
        guard !absent.isEmpty else { return nil }
        return "missing \(absent.joined(separator: ", ")): run scripts/install-deps.sh (make test runs it)"
    }

    /// Contents of a file, or a note that it is absent (for failure messages).
    static func read(_ path: String, last: Int = 40) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no \(path))" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(last).joined(separator: "\n")
    }
}

/// A temporary HOME as a browser user has it: a Firefox profile (an empty NSS database, as Firefox's
/// first start leaves it) and, after `cpsctl setup` run as the user would, cpsd's module in that profile
/// and in ~/.pki/nssdb, Chromium's database. The throw-away CA of the test server is trusted in both.
struct BrowserHome {
    let home: URL
    var chromiumDatabase: String { home.appendingPathComponent(".pki/nssdb").path }
    var firefoxProfile: String { home.appendingPathComponent(".mozilla/firefox/cpsdtest.default-esr").path }
    var environment: [String: String] {
        ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path]
    }
    var work: String { home.appendingPathComponent("work").path }

    init(trusting serverCA: String) throws {
        home = TestCards.temporaryDirectory("cpsd-browser-home")
        try FileManager.default.createDirectory(atPath: firefoxProfile, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try "[Profile0]\nName=default-esr\nIsRelative=1\nPath=cpsdtest.default-esr\nDefault=1\n".write(
            to: home.appendingPathComponent(".mozilla/firefox/profiles.ini"), atomically: true, encoding: .utf8)
        let created = try ToolRunner.run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(firefoxProfile)"])
        try #require(created.status == 0, "certutil -N: \(created.output)")

        let setup = try ToolRunner.run(ToolRunner.executable("cpsctl"), ["setup"], environment: environment)
        try #require(setup.status == 0, "cpsctl setup: \(setup.output)")
        for database in [chromiumDatabase, firefoxProfile] {
            let modules = try ToolRunner.run("/usr/bin/modutil", ["-dbdir", "sql:\(database)", "-list"])
            try #require(modules.stdout.contains("CPS (cpsd)"), "cpsctl setup did not register cpsd in \(database)")
            // "C,,": a CA trusted to issue TLS server certificates.
            let trust = try ToolRunner.run(
                "/usr/bin/certutil",
                ["-A", "-d", "sql:\(database)", "-n", "cpsd test server CA", "-t", "C,,", "-i", serverCA])
            try #require(trust.status == 0, "certutil -A in \(database): \(trust.output)")
        }
    }

    func remove() { try? FileManager.default.removeItem(at: home) }
}

/// The HTTPS server of a card login page (Tests/Fixtures/BrowserTLS/client_cert_server.py): TLS 1.2
/// only (or 1.2 and 1.3 with `allowTLS13`), a client certificate from the test IGC-Santé CAs required, the verified subject echoed in the
/// page. Its own certificate comes from a throw-away CA made here, which browsers are told to trust.
final class ClientCertServer {
    let directory: String
    let port: UInt16
    let logPath: String
    private let process = Process()

    var origin: String { "https://127.0.0.1:\(port)" }
    var serverCA: String { "\(directory)/server-ca.pem" }
    var log: String { BrowserTLS.read(logPath, last: 60) }

    /// Makes the certificates in `directory`, starts the server on a free port and waits until it listens.
    init(directory: String, allowTLS13: Bool = false) throws {
        self.directory = directory
        let tls = try ToolRunner.shell(
            "set -e; cd \(directory); cat \(BrowserTLS.testTrust)/*.pem > client-cas.pem; "
                + "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=cpsd test server CA' "
                + "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
                + "-keyout server-ca.key -out server-ca.pem; "
                + "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr; "
                + "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext; "
                + "openssl x509 -req -in server.csr -CA server-ca.pem -CAkey server-ca.key -CAcreateserial -days 2 "
                + "-extfile server.ext -out server.pem 2>&1")
        try #require(tls.status == 0, "server certificates: \(tls.output)")

        port = try DaemonTest.freePort()
        logPath = "\(directory)/server.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: BrowserTLS.python)
        process.arguments = [
            "\(BrowserTLS.fixtures)/client_cert_server.py", "--port", "\(port)", "--cert", "\(directory)/server.pem",
            "--key", "\(directory)/server.key", "--client-ca", "\(directory)/client-cas.pem",
        ] + (allowTLS13 ? ["--tls13"] : [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = process.standardOutput
        try process.run()
        for _ in 0..<200 where !log.contains("listening \(port)") && process.isRunning { usleep(50_000) }
        try #require(log.contains("listening \(port)"), "the HTTPS server did not start:\n\(log)")
    }

    /// Stops the server and removes its directory.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Chromium's AutoSelectCertificateForUrls policy for one origin, in /etc/chromium/policies/managed/
/// (the only place Debian's Chromium reads managed policies from; root only): Chromium then sends the
/// card certificate issued by the test IGC-Santé intermediate without showing its certificate chooser.
struct ChromiumPolicy {
    static let directory = "/etc/chromium/policies/managed"
    let path: String

    init(autoSelectFor origin: String, issuerCN: String) throws {
        path = "\(Self.directory)/cpsd-test-\(getpid())-\(UUID().uuidString.prefix(8)).json"
        try? FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
        try #require(
            FileManager.default.isWritableFile(atPath: Self.directory),
            "Chromium reads managed policies only from \(Self.directory): the test must be able to write there (root)")
        // The policy's value is a list of JSON texts, one rule each.
        let rule = try JSONSerialization.data(
            withJSONObject: ["pattern": origin, "filter": ["ISSUER": ["CN": issuerCN]]],
            options: .withoutEscapingSlashes)
        let policy = try JSONSerialization.data(
            withJSONObject: ["AutoSelectCertificateForUrls": [String(decoding: rule, as: UTF8.self)]],
            options: .withoutEscapingSlashes)
        try policy.write(to: URL(fileURLWithPath: path))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// One run of a browser driver script: the JSON object it prints, and its log.
struct BrowserRun: CustomStringConvertible {
    let status: Int32
    let result: [String: Any]
    let stdout: String
    let stderr: String

    var ok: Bool { result["ok"] as? Bool == true }
    var subject: String { result["subject"] as? String ?? "" }
    var tlsVersion: String { result["protocol"] as? String ?? "" }
    var pinDialogs: Int { result["pinDialogs"] as? Int ?? -1 }
    var typedPin: Bool { result["typedPin"] as? Bool == true }
    var description: String { "status \(status)\nresult: \(stdout)\nlog:\n\(stderr)" }

    /// Runs `script` (in Tests/Fixtures/BrowserTLS) with the card's PIN on its standard input. The script
    /// makes itself a process group (Xvfb, the driver and the browser with it), killed whole if it
    /// overruns `timeout`.
    static func run(
        _ script: String, _ arguments: [String], environment: [String: String], pin: [UInt8], workDirectory: String,
        timeout: Double
    ) throws -> BrowserRun {
        let outPath = "\(workDirectory)/\(script).out"
        let errPath = "\(workDirectory)/\(script).err"
        for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BrowserTLS.python)
        process.arguments = ["\(BrowserTLS.fixtures)/\(script)"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(pin + [0x0A]))
        try input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(200_000) }
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = BrowserTLS.read(errPath, last: 80)
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        return BrowserRun(status: process.terminationStatus, result: object ?? [:], stdout: stdout, stderr: stderr)
    }
}
