import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// What the bridge refuses, each over real HTTPS to a real cpsd: web pages, DNS rebinding, unpaired
/// or mismatched callers, bad bodies, replays, a missing card, and two operations at once. Every
/// refusal also shows the card untouched where a card was involved.
@Suite("Bridge: refusals", .serialized)
struct BridgeRefusalTests {
    @Test("status: unpaired, only that the bridge is there; paired, readers and card presence; never personal data; 127.0.0.1 and ::1 only")
    func status() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let holder = stack.cards[0].state.holder
            let secrets = [holder.idNat, holder.surname, stack.cards[0].state.serial]
            for host in ["127.0.0.1", "::1"] {
                let answer = try bridge.call("GET", "/v1/status", host: host)
                #expect(answer.status == 200)
                #expect(answer.json["protocol"] as? String == "cps-bridge/1")
                #expect(answer.json["paired"] as? Bool == false)
                #expect(Set(answer.json.keys) == ["protocol", "version", "tokenFormats", "paired"], "\(answer.body)")
                for revealing in ["readers", "cardPresent", "CPS3", stack.readerName(0)] + secrets {
                    #expect(!answer.body.contains(revealing), "unpaired status reveals \(revealing)")
                }
            }
            // What the WebExtension sends (its GETs carry no Origin header).
            let posted = try bridge.call("POST", "/v1/status", json: "{}")
            #expect(posted.status == 200 && posted.json["protocol"] as? String == "cps-bridge/1", "\(posted.body)")
            #expect(posted.json["readers"] == nil)
            let wrongToken = try bridge.call("POST", "/v1/status", json: "{}", token: String(repeating: "A", count: 43))
            #expect(wrongToken.json["readers"] == nil && wrongToken.json["paired"] as? Bool == false)

            let token = try bridge.pair()
            let paired = try bridge.call("POST", "/v1/status", json: "{}", token: token)
            #expect(paired.json["paired"] as? Bool == true)
            let readers = paired.json["readers"] as? [[String: Any]] ?? []
            #expect(readers.first?["cardPresent"] as? Bool == true, "\(paired.body)")
            #expect(readers.first?["name"] as? String == stack.readerName(0))
            for secret in secrets { #expect(!paired.body.contains(secret)) }
            let listening = try ToolRunner.shell("ss -Hltn 'sport = :\(bridge.port)'")
            let addresses = listening.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[3] }
            #expect(Set(addresses) == ["127.0.0.1:\(bridge.port)", "[::1]:\(bridge.port)"])
        }
    }

    @Test("web pages are refused: a web Origin, Origin null, a preflight, or no X-CPS-Bridge header; never a CORS answer")
    func webPages() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let token = try bridge.pair()
            let body = BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce())
            let cases: [(String, [String: String?])] = [
                ("web origin", ["Origin": "https://evil.example"]),
                ("null origin", ["Origin": "null"]),
                ("another extension", ["Origin": "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]),
                ("no origin", ["Origin": nil]),
                ("no custom header", ["X-CPS-Bridge": nil]),
            ]
            for (name, headers) in cases {
                let answer = try bridge.call("POST", "/v1/authenticate", json: body, token: token, headers: headers)
                #expect(answer.status == 403, "\(name)")
                #expect(answer.errorCode == "ERR_CALLER_ORIGIN", "\(name)")
                #expect(!answer.headers.lowercased().contains("access-control-allow"), "\(name)")
            }
            let preflight = try bridge.call(
                "OPTIONS", "/v1/authenticate",
                headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
            #expect(preflight.status == 403)
            #expect(!preflight.headers.lowercased().contains("access-control-allow"))
            #expect(bridge.dialogs().allSatisfy { $0["command"] as? String != "GETPIN" })
        }
    }

    @Test("DNS rebinding: any Host but the loopback names is refused with 421")
    func host() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            for host in ["evil.example:\(bridge.port)", "127.0.0.1", "127.0.0.1:1", "localhost.evil.example:\(bridge.port)"] {
                let answer = try bridge.call("GET", "/v1/status", headers: ["Host": host])
                #expect(answer.status == 421, "\(host)")
                #expect(answer.errorCode == "ERR_HOST_NOT_ALLOWED")
            }
            #expect(try bridge.call("GET", "/v1/status", headers: ["Host": "localhost:\(bridge.port)"]).status == 200)
        }
    }

    @Test("pairing: a wrong code three times voids it; a token works only for the origin that paired")
    func pairing() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            try bridge.setDialogAnswers(["ok"])
            let start = try bridge.call("POST", "/v1/pair/start", json: "{}")
            let id = try #require(start.json["pairingId"] as? String)
            let code = try bridge.waitForPairingCode()
            let wrongCode = code == "000000" ? "000001" : "000000"
            for left in [2, 1, 0] {
                let answer = try bridge.call(
                    "POST", "/v1/pair/finish", json: #"{"pairingId":"\#(id)","code":"\#(wrongCode)"}"#)
                #expect(answer.errorCode == "ERR_PAIRING_REFUSED")
                #expect(answer.retriesLeft == left)
            }
            let late = try bridge.call("POST", "/v1/pair/finish", json: #"{"pairingId":"\#(id)","code":"\#(code)"}"#)
            #expect(late.errorCode == "ERR_PAIRING_REFUSED", "the right code after three wrong ones")

            let token = try bridge.pair()
            #expect(try bridge.call("GET", "/v1/status", token: token).json["paired"] as? Bool == true)
            let stored = try String(contentsOfFile: bridge.pairingsPath, encoding: .utf8)
            #expect(!stored.contains(token), "only a digest of the token is stored")
            let mode = try FileManager.default.attributesOfItem(atPath: bridge.pairingsPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let body = BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce())
            let firefox = "moz-extension://0b5e7a9c-4d1f-4c2e-9a8b-1234567890ab"
            let stolen = try bridge.call("POST", "/v1/authenticate", json: body, token: token, headers: ["Origin": firefox])
            #expect(stolen.errorCode == "ERR_UNAUTHORIZED_CALLER")
            let wrong = try bridge.call("POST", "/v1/authenticate", json: body, token: String(token.reversed()))
            #expect(wrong.errorCode == "ERR_UNAUTHORIZED_CALLER")
            let none = try bridge.call("POST", "/v1/authenticate", json: body)
            #expect(none.status == 401)
        }
    }

    @Test("cpsctl bridge: status through the pinned certificate, pairings listed, unpair takes effect at once")
    func cpsctlBridge() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            let token = try bridge.pair()
            let env = ["XDG_STATE_HOME": bridge.home.appendingPathComponent("state").path]
            let cpsctl = ToolRunner.executable("cpsctl")
            let status = try ToolRunner.run(cpsctl, ["bridge", "status", "--port", "\(bridge.port)"], environment: env)
            #expect(status.status == 0, "\(status.output)")
            #expect(status.stdout.contains("cps-bridge/1"))
            let listed = try ToolRunner.run(cpsctl, ["bridge", "pairings"], environment: env)
            #expect(listed.stdout.contains(BridgeHarness.extensionOrigin))
            let body = BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce())
            try bridge.setDialogAnswers(["cancel"])
            #expect(try bridge.call("POST", "/v1/authenticate", json: body, token: token).errorCode == "ERR_USER_CANCELLED")
            let unpair = try ToolRunner.run(cpsctl, ["bridge", "unpair", "--all"], environment: env)
            #expect(unpair.stdout.contains("unpaired \(BridgeHarness.extensionOrigin)"), "\(unpair.output)")
            let after = try bridge.call("POST", "/v1/authenticate", json: body, token: token)
            #expect(after.errorCode == "ERR_UNAUTHORIZED_CALLER", "no cpsd restart needed")
            #expect(try bridge.call("GET", "/v1/status", token: token).json["paired"] as? Bool == false)
        }
    }

    @Test("bodies: not JSON, wrong content type, oversized, bad nonce or origin; a replayed challenge")
    func bodies() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            let malformed = try bridge.call("POST", "/v1/authenticate", json: #"{"origin": "https://a.example", "#, token: token)
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "ERR_INVALID_ARGUMENT")
            let textPlain = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token,
                headers: ["Content-Type": "text/plain"])
            #expect(textPlain.status == 415)
            let huge = #"{"origin":"https://a.example","challengeNonce":"\#(String(repeating: "A", count: 9000))"}"#
            let oversized = try bridge.call("POST", "/v1/authenticate", json: huge, token: token)
            #expect(oversized.status == 413)
            #expect(oversized.errorCode == "ERR_PAYLOAD_TOO_LARGE")
            let shortNonce = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: "c2hvcnQ="), token: token)
            #expect(shortNonce.errorCode == "ERR_INVALID_ARGUMENT")
            for origin in ["http://localhost:8443", "https://localhost:8443/login", "https://user@localhost"] {
                let answer = try bridge.call(
                    "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(origin: origin, nonce: BridgeHarness.nonce()),
                    token: token)
                #expect(answer.status == 400, "\(origin)")
                #expect(["ERR_INSECURE_ORIGIN", "ERR_INVALID_ARGUMENT"].contains(answer.errorCode ?? ""), "\(origin)")
            }
            #expect(bridge.dialogs().allSatisfy { $0["command"] as? String != "GETPIN" }, "no dialog for a bad request")

            try bridge.setDialogAnswers(["pin 1234", "pin 1234"])
            let nonce = BridgeHarness.nonce()
            let first = try bridge.call("POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: nonce), token: token)
            #expect(first.status == 200)
            let replay = try bridge.call("POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: nonce), token: token)
            #expect(replay.errorCode == "ERR_INVALID_ARGUMENT")
            #expect(bridge.dialogs().filter { $0["command"] as? String == "GETPIN" }.count == 1)
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("malformed HTTP gets 400 and a closed connection; the bridge keeps serving")
    func malformedHTTP() async throws {
        try await BridgeHarness.withBridge { _, bridge in
            for garbage in ["GARBAGE\\r\\n\\r\\n", "GET /v1/status HTTP/1.1\\r\\nHost\\r\\n\\r\\n", "\\x00\\x01\\x02\\r\\n\\r\\n"] {
                let result = try ToolRunner.shell(
                    "printf '\(garbage)' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:\(bridge.port) -CAfile \(bridge.caPath) 2>/dev/null")
                #expect(result.stdout.hasPrefix("HTTP/1.1 400"), "\(garbage): \(result.output)")
            }
            let oversizedHeaders = String(repeating: "X-Filler: \(String(repeating: "a", count: 1000))\\r\\n", count: 100)
            let big = try ToolRunner.shell(
                "printf 'GET /v1/status HTTP/1.1\\r\\nHost: 127.0.0.1:\(bridge.port)\\r\\n\(oversizedHeaders)\\r\\n' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:\(bridge.port) -CAfile \(bridge.caPath) 2>/dev/null")
            #expect(!big.stdout.contains("cps-bridge/1"), "100 KB of headers are not served")
            #expect(try bridge.call("GET", "/v1/status").status == 200)
        }
    }

    @Test("no card: a clear error before any dialog")
    func noCard() async throws {
        try await BridgeHarness.withBridge(cards: 0) { _, bridge in
            let token = try bridge.pair()
            let answer = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(answer.status == 404)
            #expect(answer.errorCode == "ERR_CARD_NOT_PRESENT")
            #expect(bridge.dialogs().allSatisfy { $0["command"] as? String != "GETPIN" })
        }
    }

    @Test("two operations at once: the second gets ERR_ACTION_PENDING; /v1/cancel ends the first")
    func concurrency() async throws {
        try await BridgeHarness.withBridge { stack, bridge in
            let token = try bridge.pair()
            try bridge.setDialogAnswers(["hang"])
            let first = Task.detached {
                try bridge.call(
                    "POST", "/v1/authenticate",
                    json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce(), requestID: "first"), token: token)
            }
            try await Self.waitForDialog(bridge, command: "GETPIN")
            let second = try bridge.call(
                "POST", "/v1/authenticate", json: BridgeHarness.authenticateBody(nonce: BridgeHarness.nonce()), token: token)
            #expect(second.status == 409)
            #expect(second.errorCode == "ERR_ACTION_PENDING")
            let notOurs = try bridge.call("POST", "/v1/cancel", json: #"{"requestId":"other"}"#, token: token)
            #expect(notOurs.json["cancelled"] as? Bool == false)
            let cancel = try bridge.call("POST", "/v1/cancel", json: #"{"requestId":"first"}"#, token: token)
            #expect(cancel.json["cancelled"] as? Bool == true)
            let ended = try await first.value
            #expect(ended.status == 403)
            #expect(ended.errorCode == "ERR_USER_CANCELLED")
            #expect(ended.json["error"].flatMap { ($0 as? [String: Any])?["requestId"] as? String } == "first")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a port taken by another program: cpsd says so and still serves PKCS#11")
    func squattedPort() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let port = Int.random(in: 39000...39999)
            let squatter = Process()
            squatter.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            squatter.arguments = ["-c", "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',\(port)))\ns.listen()\ntime.sleep(60)"]
            try squatter.run()
            defer {
                kill(squatter.processIdentifier, SIGKILL)
                squatter.waitUntilExit()
            }
            usleep(300_000)
            let home = TestCards.temporaryDirectory("cpsd-squat")
            defer { try? FileManager.default.removeItem(at: home) }
            var environment = stack.environment
            environment["XDG_STATE_HOME"] = home.path
            let daemon = try DaemonProcess(environment: environment, arguments: ["--bridge-port", "\(port)"])
            try DaemonTest.waitForTokens(daemon, count: 1)
            for _ in 0..<200 where !daemon.log.contains("bridge not started") { usleep(25_000) }
            #expect(daemon.log.contains("port \(port) is already used by another program"))
            let listing = try DaemonTest.tool(daemon, ["-L"])
            #expect(listing.stdout.contains("token label"))
            #expect(daemon.stop())
        }
    }

    static func waitForDialog(_ bridge: BridgeHarness, command: String) async throws {
        for _ in 0..<400 {
            if bridge.dialogs().contains(where: { $0["command"] as? String == command }) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw DaemonProcessError("no \(command) dialog appeared")
    }
}
