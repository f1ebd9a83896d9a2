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
            let (home, database) = try Self.preparedHome()
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
                "s_server", "-accept", "127.0.0.1:\(port)", "-tls1_2", "-Verify", "1", "-CAfile", "\(dir)/ca.pem",
                "-cert", "\(dir)/server.pem", "-key", "\(dir)/server.key", "-www",
            ]
            let serverLog = "\(dir)/s_server.log"
            _ = FileManager.default.createFile(atPath: serverLog, contents: nil)
            server.standardOutput = FileHandle(forWritingAtPath: serverLog)
            server.standardError = server.standardOutput
            server.standardInput = FileHandle.nullDevice
            try server.run()
            defer {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            var listening = false
            for _ in 0..<100 where !listening {
                let log = (try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? ""
                listening = log.contains("ACCEPT")
                if !listening { usleep(50_000) }
            }
            #expect(listening, "s_server did not start")

            let client = try ToolRunner.run(
                "/usr/bin/tstclnt",
                [
                    "-h", "127.0.0.1", "-p", "\(port)", "-d", "sql:\(database)", "-V", "tls1.2:tls1.2", "-n",
                    Self.authNickname, "-w", "1234", "-o",
                ],
                environment: daemon.environment.merging(["HOME": home.path]) { $1 },
                stdin: Data("GET / HTTP/1.0\r\n\r\n".utf8), timeout: 60)
            let serverOutput = (try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? ""
            let context = "tstclnt:\n\(client.output)\ns_server:\n\(serverOutput)\ncpsd:\n\(daemon.logTail())"
            #expect(client.status == 0, "\(context)")
            #expect(client.stdout.contains("HTTP/1.0 200 ok"), "\(context)")
            // s_server -www reports the peer certificate it verified in its page.
            #expect(client.stdout.contains("Client certificate"), "\(context)")
            let holder = TestCards.defaultState.holder
            #expect(client.stdout.contains(holder.surname), "\(context)")
            #expect(!serverOutput.contains("verify error"), "\(context)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}
