import CardTestSupport
import Foundation
import Testing

/// `cpsctl diag`'s bridge checks against a real cpsd with its bridge (HTTPS on a test port, its CA in a
/// throw-away home), a port squatted by another program, a second cpsd, a bridge of another protocol
/// version, the CA's trust in a real NSS database, and browser profile files.
@Suite("cpsctl diag: the browser bridge")
struct DiagBridgeTests {
    /// cpsd on the real stack with the diag home's HOME and XDG directories (so its CA lands where diag
    /// looks), waiting until its log says whether the bridge started.
    static func daemon(_ stack: RealStack, _ environment: [String: String], _ arguments: [String]) throws -> DaemonProcess {
        let daemon = try DaemonProcess(environment: stack.environment.merging(environment) { $1 }, arguments: arguments)
        for _ in 0..<400 {
            if daemon.log.contains("bridge listening") || daemon.log.contains("bridge not started") { return daemon }
            usleep(25_000)
        }
        daemon.stop()
        throw DaemonProcessError("cpsd said nothing about its bridge:\n\(daemon.logTail())")
    }

    static func port() throws -> Int { Int(try DaemonTest.freePort()) }

    static func nssdb(_ home: URL) throws -> String {
        let nssdb = home.appendingPathComponent(".pki/nssdb").path
        try FileManager.default.createDirectory(atPath: nssdb, withIntermediateDirectories: true)
        let created = try ToolRunner.run("/usr/bin/certutil", ["-N", "--empty-password", "-d", "sql:\(nssdb)"])
        #expect(created.status == 0, "\(created.output)")
        return nssdb
    }

    @Test("cpsd's bridge answers: listening and port ok; its CA untrusted in the NSS database warns, --fix trusts it")
    func runningBridge() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            let nssdb = try Self.nssdb(home)
            let port = try Self.port()
            let daemon = try Self.daemon(stack, environment, ["--bridge-port", "\(port)"])
            defer { daemon.stop() }
            #expect(daemon.log.contains("bridge listening"), "\(daemon.logTail())")
            let before = try DiagRun.run(stack, ["--daemon-socket", daemon.socketPath], environment: environment)
            #expect(before.status("bridge.listening") == "ok", "\(before.finding("bridge.listening"))")
            #expect(before.finding("bridge.listening").contains("cps-bridge/1 answers on 127.0.0.1:\(port)"))
            #expect(before.finding("bridge.listening").contains(":\(port) (--bridge-port of cpsd pid \(daemon.pid))"))
            #expect(before.finding("bridge.listening").contains("TLS verified with the local CA, cpsd version "))
            #expect(before.status("bridge.port") == "ok")
            #expect(before.finding("bridge.port").contains("held by cpsd (pid \(daemon.pid))"))
            #expect(before.status("bridge.ca") == "warn", "\(before.finding("bridge.ca"))")
            #expect(before.finding("bridge.ca").contains("not trusted in Chromium \(nssdb)"))
            #expect(before.remedy("bridge.ca").contains("cpsctl setup"))
            #expect(before.status("bridge.extension") == "skip")
            #expect(before.status == 1)

            let fixed = try DiagRun.run(stack, ["--daemon-socket", daemon.socketPath, "--fix", "--yes"], environment: environment)
            #expect(fixed.stderr.contains("--fix: trusted the bridge CA in Chromium \(nssdb)"), "\(fixed.stderr)")
            #expect(fixed.status("bridge.ca") == "ok", "\(fixed.finding("bridge.ca"))")
            #expect(fixed.finding("bridge.ca").contains("trusted in"))
            let listing = try ToolRunner.run("/usr/bin/certutil", ["-L", "-d", "sql:\(nssdb)"])
            #expect(listing.stdout.contains("cpsd local bridge CA"))
            #expect(listing.stdout.contains("C,,"))

            // A CA replaced behind the running cpsd's back: its bridge no longer chains to ca.pem.
            let caPath = home.appendingPathComponent(".local/state/cpsd/bridge/ca.pem").path
            let other = try ToolRunner.shell(
                "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out '\(caPath)' "
                    + "-days 30 -subj '/CN=another CA' 2>&1")
            #expect(other.status == 0, "\(other.output)")
            let replaced = try DiagRun.run(stack, ["--daemon-socket", daemon.socketPath], environment: environment)
            #expect(replaced.status("bridge.listening") == "fail")
            #expect(replaced.finding("bridge.listening").contains("its TLS certificate does not chain to the local CA (\(caPath))"))
            #expect(replaced.remedy("bridge.listening").contains("restart cpsd"))
        }
    }

    @Test("another program squats the port from cpsd.conf: bridge.port fails naming it, bridge.listening fails")
    func squattedPort() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            let port = try Self.port()
            DiagRun.writeConfig(["bridge-port = \(port)"], home: home)
            let squatter = try FixtureProcess("squat-port.py", ["\(port)"])
            defer { squatter.stop() }
            let daemon = try Self.daemon(stack, environment, [])
            defer { daemon.stop() }
            #expect(daemon.log.contains("bridge not started"), "\(daemon.logTail())")
            let run = try DiagRun.run(stack, ["--daemon-socket", daemon.socketPath], environment: environment)
            let finding = run.finding("bridge.port")
            #expect(run.status("bridge.port") == "fail", "\(finding)")
            #expect(finding.contains("port \(port) (bridge-port in \(home.path)/.config/cpsd/cpsd.conf) is held by python3"))
            #expect(finding.contains("(pid \(squatter.pid)"))
            #expect(run.remedy("bridge.port").contains("`bridge-port = N` (a free port) in \(home.path)/.config/cpsd/cpsd.conf"))
            #expect(run.status("bridge.listening") == "fail", "\(run.finding("bridge.listening"))")
            #expect(run.remedy("bridge.listening").contains("bridge.port"))
            #expect(run.status == 2)
        }
    }

    @Test("a second cpsd holds the port: bridge.port warns, naming it")
    func secondDaemon() async throws {
        try await RealStack.withStack { stack in
            let (_, environment) = DiagRun.home()
            let port = try Self.port()
            let first = try Self.daemon(stack, environment, ["--bridge-port", "\(port)"])
            defer { first.stop() }
            let second = try Self.daemon(stack, environment, ["--bridge-port", "\(port)"])
            defer { second.stop() }
            #expect(second.log.contains("bridge not started"))
            let run = try DiagRun.run(stack, ["--daemon-socket", second.socketPath], environment: environment)
            #expect(run.status("bridge.port") == "warn", "\(run.finding("bridge.port"))")
            #expect(run.finding("bridge.port").contains("held by another cpsd, cpsd (pid \(first.pid)"))
            #expect(run.finding("bridge.port").contains("not by the cpsd serving the PKCS#11 socket (pid \(second.pid))"))
            #expect(run.remedy("bridge.port").contains("one cpsd per user session"))
            // The extension would still reach a bridge (the first cpsd's), over the same CA.
            #expect(run.status("bridge.listening") == "ok", "\(run.finding("bridge.listening"))")
        }
    }

    @Test("no CA yet: skip; a bridge of another protocol: warn; a CA expiring in 10 days: warn; an unreadable CA: fail")
    func protocolAndCA() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            let port = try Self.port()
            let fresh = try DiagRun.run(stack, ["--bridge-port", "\(port)"], environment: environment)
            #expect(fresh.status("bridge.ca") == "skip")
            #expect(fresh.finding("bridge.ca").contains("no local CA yet"))
            #expect(fresh.status("bridge.listening") == "skip")
            #expect(fresh.finding("bridge.listening").contains("cpsd is not running"))
            #expect(fresh.status("bridge.port") == "ok")
            #expect(fresh.finding("bridge.port").contains("port \(port) (--bridge-port) is free"))

            let bridgeDirectory = home.appendingPathComponent(".local/state/cpsd/bridge")
            try FileManager.default.createDirectory(at: bridgeDirectory, withIntermediateDirectories: true)
            let dir = bridgeDirectory.path
            let made = try ToolRunner.shell("""
                cd '\(dir)' && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > leaf.ext \
                && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 10 \
                   -subj '/CN=other release bridge CA' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
                && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=127.0.0.1 \
                && openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 9 -extfile leaf.ext
                """)
            #expect(made.status == 0, "\(made.output)")
            let server = try FixtureProcess("fake-bridge.py", ["\(port)", "\(dir)/leaf.pem", "\(dir)/leaf.key"])
            let other = try DiagRun.run(stack, ["--bridge-port", "\(port)"], environment: environment)
            server.stop()
            #expect(other.status("bridge.listening") == "warn", "\(other.finding("bridge.listening"))")
            #expect(other.finding("bridge.listening").contains("speaks cps-bridge/2 (version 9.0.0)"))
            #expect(other.remedy("bridge.listening").contains("same release"))
            #expect(other.status("bridge.port") == "fail")
            #expect(other.finding("bridge.port").contains("(pid \(server.pid)"))
            #expect(other.status("bridge.ca") == "warn", "\(other.finding("bridge.ca"))")
            #expect(other.finding("bridge.ca").contains("expires in"))
            #expect(other.remedy("bridge.ca").contains("Restart cpsd"))

            try "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"
                .write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
            let broken = try DiagRun.run(stack, ["--bridge-port", "\(port)"], environment: environment)
            #expect(broken.status("bridge.ca") == "fail", "\(broken.finding("bridge.ca"))")
            #expect(broken.finding("bridge.ca").contains("is not a readable certificate"))
            #expect(broken.remedy("bridge.ca").contains("Remove \(dir)"))
        }
    }

    @Test("`bridge = off` in cpsd.conf: every bridge check skips and says why")
    func bridgeOff() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            DiagRun.writeConfig(["bridge = off"], home: home)
            let run = try DiagRun.run(stack, [], environment: environment)
            for id in ["bridge.listening", "bridge.port", "bridge.ca", "bridge.extension"] {
                #expect(run.status(id) == "skip", "\(id)")
                #expect(run.finding(id).contains("`bridge = off` in \(home.path)/.config/cpsd/cpsd.conf"), "\(id)")
            }
        }
    }

    @Test("the extension, from the profiles' own files: none, absent, installed, disabled, Firefox, an id from cpsd.conf")
    func extensionInProfiles() async throws {
        try await RealStack.withStack { stack in
            let (home, environment) = DiagRun.home()
            func diag() throws -> DiagRun.Outcome { try DiagRun.run(stack, [], environment: environment) }
            #expect(try diag().status("bridge.extension") == "skip")

            let chromium = home.appendingPathComponent(".config/chromium/Default")
            try FileManager.default.createDirectory(at: chromium, withIntermediateDirectories: true)
            func preferences(_ settings: String) throws {
                try #"{"extensions":{"settings":{\#(settings)}},"profile":{"name":"Personne 1"}}"#
                    .write(to: chromium.appendingPathComponent("Preferences"), atomically: true, encoding: .utf8)
            }
            try preferences(#""ghbmnnjooekpmoecnnnilnnbdlolhkhi":{"state":1}"#)
            let absent = try diag()
            #expect(absent.status("bridge.extension") == "warn")
            #expect(absent.finding("bridge.extension").contains("not installed in Chromium \(chromium.path)"))
            #expect(absent.remedy("bridge.extension").contains("Packaging/webextension/README.md"))

            try preferences(#""bbdifahjkphgjdfopbedhkhkaijgdhbk":{"state":1,"location":1,"disable_reasons":[]}"#)
            let installed = try diag()
            #expect(installed.status("bridge.extension") == "ok", "\(installed.finding("bridge.extension"))")
            #expect(installed.finding("bridge.extension").contains("installed in Chromium \(chromium.path)"))

            try preferences(#""bbdifahjkphgjdfopbedhkhkaijgdhbk":{"state":1,"location":1,"disable_reasons":1}"#)
            let disabled = try diag()
            #expect(disabled.status("bridge.extension") == "fail")
            #expect(disabled.finding("bridge.extension").contains("installed but disabled"))
            #expect(disabled.remedy("bridge.extension").contains("chrome://extensions"))

            // An unpacked copy with another id counts once cpsd.conf accepts that id.
            let otherID = "abcdefghijklmnopabcdefghijklmnop"
            try preferences(#""\#(otherID)":{"state":1,"location":4}"#)
            #expect(try diag().status("bridge.extension") == "warn")
            DiagRun.writeConfig(["bridge-extension-id = \(otherID)"], home: home)
            #expect(try diag().status("bridge.extension") == "ok")

            try FileManager.default.removeItem(at: home.appendingPathComponent(".config/chromium"))
            let firefox = home.appendingPathComponent(".mozilla/firefox")
            let profile = firefox.appendingPathComponent("abcd1234.default-esr")
            try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
            try "[Profile0]\nName=default-esr\nIsRelative=1\nPath=abcd1234.default-esr\nDefault=1\n"
                .write(to: firefox.appendingPathComponent("profiles.ini"), atomically: true, encoding: .utf8)
            try #"{"schemaVersion":36,"addons":[{"id":"cpsd-bridge@cpsd.invalid","active":true,"userDisabled":false,"appDisabled":false}]}"#
                .write(to: profile.appendingPathComponent("extensions.json"), atomically: true, encoding: .utf8)
            let gecko = try diag()
            #expect(gecko.status("bridge.extension") == "ok", "\(gecko.finding("bridge.extension"))")
            #expect(gecko.finding("bridge.extension").contains("Firefox \(profile.path)"))
        }
    }
}
