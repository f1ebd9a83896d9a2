import CardTestSupport
import Foundation
import VirtualCard
import Testing

/// A cpsd with its browser bridge on the real stack, a private home (the bridge's CA and pairings),
/// and the scripted pinentry (Tests/Fixtures/scripted-pinentry) answering its dialogs. Requests go
/// through curl, a real HTTPS client that trusts only the bridge's own CA.
struct BridgeHarness {
    static let extensionOrigin = "chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk"
    static let pinentry = DiagRun.repositoryRoot.appendingPathComponent("Tests/Fixtures/scripted-pinentry").path

    let daemon: DaemonProcess
    let port: Int
    let home: URL
    var script: URL { home.appendingPathComponent("pinentry-script") }
    var dialogLog: URL { home.appendingPathComponent("pinentry-log") }
    var caPath: String { home.appendingPathComponent("state/cpsd/bridge/ca.pem").path }
    var pairingsPath: String { home.appendingPathComponent("state/cpsd/bridge-pairings.json").path }

    struct Answer {
        var status: Int
        var body: String
        var headers: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var retriesLeft: Int? { (json["error"] as? [String: Any])?["retriesLeft"] as? Int }
    }

    /// The real stack with fresh cards (one, in reader 0, unless `cards` says 0), and cpsd with its bridge;
    /// `userTimeout` (seconds) shortens how long cpsd's dialogs wait for the user.
    static func withBridge<R>(
        cards: Int = 1, card state: CardState = TestCards.defaultState, userTimeout: Int? = nil,
        _ body: (RealStack, BridgeHarness) async throws -> R
    ) async throws -> R {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(state, reader: 0)
            try stack.removeCard(reader: 1)
            if cards == 0 { try stack.removeCard(reader: 0) }
            let home = URL(fileURLWithPath: "/tmp/cpsd-bridge-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: home) }
            // A port free now (a random pick once collided with another test's listener in a clean run).
            let port = Int(try DaemonTest.freePort())
            var environment = stack.environment
            environment["XDG_DATA_HOME"] = home.appendingPathComponent("data").path
            environment["XDG_STATE_HOME"] = home.appendingPathComponent("state").path
            environment["CPSD_TEST_PINENTRY_SCRIPT"] = home.appendingPathComponent("pinentry-script").path
            environment["CPSD_TEST_PINENTRY_LOG"] = home.appendingPathComponent("pinentry-log").path
            var arguments = ["--bridge-port", "\(port)", "--pinentry", pinentry]
            if let userTimeout {
                let configuration = home.appendingPathComponent("cpsd.conf")
                try "bridge-user-timeout = \(userTimeout)\n".write(to: configuration, atomically: true, encoding: .utf8)
                arguments += ["--config", configuration.path]
            }
            let daemon = try DaemonProcess(environment: environment, arguments: arguments)
            let harness = BridgeHarness(daemon: daemon, port: port, home: home)
            do {
                try harness.waitUntilListening()
                let result = try await body(stack, harness)
                #expect(daemon.stop(), "cpsd stopped uncleanly:\n\(daemon.logTail())")
                return result
            } catch {
                daemon.stop()
                throw error
            }
        }
    }

    func waitUntilListening() throws {
        for _ in 0..<200 {
            if daemon.log.contains("bridge listening") { return }
            if daemon.log.contains("bridge not started") { break }
            usleep(25_000)
        }
        throw DaemonProcessError("the bridge did not start:\n\(daemon.logTail())")
    }

    /// The answers the scripted pinentry gives, one line per dialog, from now on.
    func setDialogAnswers(_ lines: [String]) throws {
        try? FileManager.default.removeItem(atPath: script.path + ".pos")
        try (lines.joined(separator: "\n") + "\n").write(to: script, atomically: true, encoding: .utf8)
    }

    /// Every dialog shown so far, as the scripted pinentry logged it (never the PIN).
    func dialogs() -> [[String: Any]] {
        guard let text = try? String(contentsOf: dialogLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// One HTTPS request with curl. `headers` replaces the defaults of the same name; a nil value drops it.
    func call(
        _ method: String, _ path: String, json: String? = nil, token: String? = nil,
        headers: [String: String?] = [:], host: String = "127.0.0.1", timeout: Double = 30
    ) throws -> Answer {
        var fields: [String: String?] = [
            "Origin": Self.extensionOrigin, "X-CPS-Bridge": "1",
            "Content-Type": json == nil ? nil : "application/json",
            "Authorization": token.map { "Bearer \($0)" },
        ]
        fields.merge(headers) { $1 }
        let bodyFile = home.appendingPathComponent("body-\(UUID().uuidString.prefix(6))").path
        let headerFile = bodyFile + ".headers"
        defer { try? FileManager.default.removeItem(atPath: bodyFile); try? FileManager.default.removeItem(atPath: headerFile) }
        var arguments = ["-s", "-S", "--cacert", caPath, "-X", method, "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}"]
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            arguments += ["-H", value.flatMap { $0 }.map { "\(name): \($0)" } ?? "\(name):"]
        }
        if let json {
            let requestFile = bodyFile + ".request"
            try json.write(toFile: requestFile, atomically: true, encoding: .utf8)
            arguments += ["--data-binary", "@\(requestFile)"]
        }
        let address = host.contains(":") ? "[\(host)]" : host
        arguments.append("https://\(address):\(port)\(path)")
        let result = try ToolRunner.run("/usr/bin/curl", arguments, timeout: timeout)
        guard result.status == 0, let status = Int(result.stdout) else {
            throw DaemonProcessError("curl \(method) \(path) failed (\(result.status)): \(result.output)")
        }
        return Answer(
            status: status, body: (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? "",
            headers: (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "")
    }

    /// Pairs the extension origin as the popup would: start, read the code the dialog showed, finish.
    func pair(origin: String = Self.extensionOrigin) throws -> String {
        try setDialogAnswers(["ok"])
        let shown = messageDialogs().count
        let start = try call("POST", "/v1/pair/start", json: "{}", headers: ["Origin": origin])
        guard start.status == 200, let id = start.json["pairingId"] as? String else {
            throw DaemonProcessError("pair/start: \(start.status) \(start.body)")
        }
        let code = try waitForPairingCode(after: shown)
        let finish = try call(
            "POST", "/v1/pair/finish", json: #"{"pairingId":"\#(id)","code":"\#(code)"}"#, headers: ["Origin": origin])
        guard finish.status == 200, let token = finish.json["token"] as? String else {
            throw DaemonProcessError("pair/finish: \(finish.status) \(finish.body)")
        }
        return token
    }

    func messageDialogs() -> [[String: Any]] { dialogs().filter { $0["command"] as? String == "MESSAGE" } }

    /// The six digits ("123 456") shown by the first pairing dialog after the `after` earlier ones.
    func waitForPairingCode(after earlier: Int = 0) throws -> String {
        for _ in 0..<200 {
            let messages = messageDialogs()
            if messages.count > earlier, let description = messages[earlier]["desc"] as? String,
                let range = description.range(of: #"\d{3} \d{3}"#, options: .regularExpression)
            {
                return description[range].replacingOccurrences(of: " ", with: "")
            }
            usleep(25_000)
        }
        throw DaemonProcessError("no pairing dialog was shown")
    }

    /// A fresh Web eID challenge nonce: 32 random bytes in base64 (44 characters).
    static func nonce() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    static func authenticateBody(origin: String = "https://localhost:8443", nonce: String, requestID: String? = nil) -> String {
        let id = requestID.map { #""requestId":"\#($0)","# } ?? ""
        return #"{\#(id)"origin":"\#(origin)","challengeNonce":"\#(nonce)"}"#
    }
}
