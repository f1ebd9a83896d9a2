import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard

/// NSS (what Chromium and Firefox use) with the module `cpsctl setup` registers: the card's
/// certificates in certutil, and a TLS 1.2 handshake with client authentication signed by the card.
@Suite("cpsd through NSS")
struct DaemonNSSTests {
    static let authNickname = "\(DaemonTest.tokenLabel):Certificat d'Authentification CPS"
    static let sigNickname = "\(DaemonTest.tokenLabel):Certificat de Signature CPS"

    /// A temporary HOME where `cpsctl setup` created ~/.pki/nssdb with cpsd's module.
    static func preparedHome() throws -> (home: URL, database: String) {
        let home = TestCards.temporaryDirectory("cpsd-nsshome")
        let env = ["HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path]
        let setup = try ToolRunner.run(ToolRunner.executable("cpsctl"), ["setup"], environment: env)
        #expect(setup.status == 0, "\(setup.output)")
        let database = home.appendingPathComponent(".pki/nssdb").path
        #expect(FileManager.default.fileExists(atPath: database + "/cert9.db"), "\(setup.output)")
        return (home, database)
    }

    /// Runs `tool` with `input` on stdin until its standard output contains `marker`, or
    /// at most `timeout` seconds; then SIGKILL.
    static func runUntil(
        _ marker: String, _ tool: String, _ arguments: [String], environment: [String: String], input: String,
        directory: String, timeout: Double = 60
    ) throws -> (completed: Bool, stdout: String, output: String) {
        let outPath = "\(directory)/\(URL(fileURLWithPath: tool).lastPathComponent).out"
        let errPath = outPath + ".err"
        for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        let deadline = Date(timeIntervalSinceNow: timeout)
        var stdout = ""
        while Date() < deadline && process.isRunning {
            stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            if stdout.contains(marker) { break }
            usleep(100_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // tstclnt ignores SIGTERM
        process.waitUntilExit()
        try? stdin.fileHandleForWriting.close()
        stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (stdout.contains(marker), stdout, stdout + stderr)
    }

    @Test("certutil -L -h all lists both card certificates under the token's label")
    func certutilListsCertificates() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { _, daemon in
            let (home, database) = try Self.preparedHome()
            defer { try? FileManager.default.removeItem(at: home) }
            let env = daemon.environment.merging(["HOME": home.path]) { $1 }
            let listing = try ToolRunner.run("/usr/bin/certutil", ["-L", "-h", "all", "-d", "sql:\(database)"], environment: env)
            #expect(listing.status == 0, "\(listing.output)\n\(daemon.logTail())")
            #expect(listing.stdout.contains(Self.authNickname), "\(listing.stdout)")
            #expect(listing.stdout.contains(Self.sigNickname), "\(listing.stdout)")
        }
    }

    @Test("tstclnt completes a TLS 1.2 handshake with client authentication by the card's key")
    func tlsClientAuthentication() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let run = try TLSHandshake.run(daemon, nickname: Self.authNickname, server: "-tls1_2", client: "tls1.2:tls1.2")
            #expect(run.client.completed, "\(run.context)")
            #expect(run.client.stdout.contains("HTTP/1.0 200 ok"), "\(run.context)")
            // s_server -www reports the client certificate it verified, and the session, in its page.
            #expect(run.client.stdout.contains("Verify return code: 0 (ok)"), "\(run.context)")
            #expect(run.client.stdout.contains("TLSv1.2"), "\(run.context)")
            #expect(run.client.stdout.contains("Client certificate"), "\(run.context)")
            #expect(run.client.stdout.contains(TestCards.defaultState.holder.surname), "\(run.context)")
            #expect(!run.serverOutput.contains("verify error"), "\(run.context)")
            // The handshake signature came from the card through cpsd, for tstclnt.
            #expect(run.audits.contains { $0.contains("key=CPS_PRIV_AUT") && $0.contains("result=ok") }, "\(run.context)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}

/// One TLS handshake with client authentication: `openssl s_server -Verify 1` trusting the test CA, and NSS's
/// tstclnt using the card's certificate through cpsd's module (registered by `cpsctl setup`).
enum TLSHandshake {
    struct Run {
        var client: (completed: Bool, stdout: String, output: String)
        var serverOutput: String
        var context: String
        /// cpsd's audit lines for signatures made for tstclnt.
        var audits: [Substring]
    }

    static func run(_ daemon: DaemonProcess, nickname: String, server version: String, client range: String) throws -> Run {
        let (home, database) = try DaemonNSSTests.preparedHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let dir = home.appendingPathComponent("tls").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let trust = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Packaging/trust/test").standardized.path
        let make = try ToolRunner.shell(
            "cd \(dir) && cat \(trust)/*.pem > ca.pem && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                + "-subj /CN=localhost -keyout server.key -out server.pem 2>&1")
        #expect(make.status == 0, "\(make.output)")
        let port = try DaemonTest.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", version, "-Verify", "1", "-CAfile", "\(dir)/ca.pem",
            "-cert", "\(dir)/server.pem", "-key", "\(dir)/server.key", "-www", "-naccept", "1",
        ]
        let serverLog = "\(dir)/s_server.log"
        _ = FileManager.default.createFile(atPath: serverLog, contents: nil)
        server.standardOutput = FileHandle(forWritingAtPath: serverLog)
        server.standardError = server.standardOutput
        server.standardInput = FileHandle.nullDevice
        try server.run()
        defer {
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        var listening = false
        for _ in 0..<100 where !listening {
            listening = ((try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? "").contains("ACCEPT")
            if !listening { usleep(50_000) }
        }
        #expect(listening, "s_server did not start")
        // tstclnt keeps polling after the answer (s_server does not close the TLS session), so it is
        // stopped once the page is complete: the point is the handshake and the answer, not its exit.
        let client = try DaemonNSSTests.runUntil(
            "</HTML>", "/usr/bin/tstclnt",
            ["-h", "127.0.0.1", "-p", "\(port)", "-d", "sql:\(database)", "-V", range, "-n", nickname, "-w", "1234", "-o"],
            environment: daemon.environment.merging(["HOME": home.path]) { $1 }, input: "GET / HTTP/1.0\r\n\r\n",
            directory: dir)
        let serverOutput = (try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? ""
        let audits = daemon.log.split(separator: "\n").filter {
            $0.contains("audit=signature") && $0.contains("peer_exe=/usr/bin/tstclnt")
        }
        return Run(
            client: client, serverOutput: serverOutput,
            context: "tstclnt:\n\(client.output)\ns_server:\n\(serverOutput)\ncpsd:\n\(daemon.logTail())", audits: audits)
    }
}
