import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// `cpsctl card`, `pin` and `sign` through a running cpsd (PKCS#11 over p11-kit-client.so), and the
/// fallback to direct PC/SC when no daemon answers or --direct is given. cpsd is started by the test on
/// a private socket, against the stack's private pcscd.
@Suite("cpsctl through cpsd")
struct CPSCtlDaemonTests {
    static let cpsctl = ToolRunner.executable("cpsctl")

    static func secretFile(_ lines: [String]) throws -> String { try CPSCtlCardTests.secretFile(lines) }

    static func json(_ result: ToolRunner.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
    }

    @Test("card info --json via cpsd: holder, chain, counters from the token flags, unblocks unknown")
    func cardInfo() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try await TestDaemon.with(stack) { daemon in
                let result = try ToolRunner.run(
                    Self.cpsctl, ["card", "info", "--json", "--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath],
                    environment: stack.environment)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stderr.contains("Access: via cpsd (\(daemon.socketPath))"))
                let json = try Self.json(result)
                #expect(json["access"] as? String == "via cpsd")
                #expect(json["daemonSocket"] as? String == daemon.socketPath)
                let holder = try #require(json["holder"] as? [String: Any])
                #expect(holder["idNat"] as? String == TestCards.defaultState.holder.idNat)
                #expect(holder["surname"] as? String == TestCards.defaultState.holder.surname)
                #expect(json["tokenLabel"] as? String == "CPS3v3-\(TestCards.defaultState.serial)")
                let certificates = try #require(json["certificates"] as? [[String: Any]])
                #expect(certificates.map { $0["usage"] as? String } == ["authentication", "signature"])
                #expect(certificates.allSatisfy { $0["chain"] as? String == "trusted (test)" })
                #expect((json["pin"] as? [String: Int])?["triesLeft"] == stack.cards[0].state.pin.triesLeft)
                #expect((json["puk"] as? [String: Int])?["triesLeft"] == 3)
                #expect(json["unblocksLeft"] is NSNull, "unknown through PKCS#11")
                #expect(daemon.log.contains("cpsctl)"), "cpsd saw cpsctl as a client: \(daemon.log)")
                // Text form names the path too.
                let text = try ToolRunner.run(
                    Self.cpsctl, ["card", "info", "--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath],
                    environment: stack.environment)
                #expect(text.stdout.contains("Access:        via cpsd (\(daemon.socketPath))"), "\(text.output)")
            }
        }
    }

    @Test("sign via cpsd with each key and mechanism; OpenSSL verifies with certificates exported via cpsd")
    func signAndVerify() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try await TestDaemon.with(stack) { daemon in
                let env = stack.environment
                let dir = TestCards.temporaryDirectory("cpsd-ctl-sign").path
                let options = "--reader '\(stack.readerName(0))' --daemon-socket \(daemon.socketPath)"
                let export = try ToolRunner.shell("\(Self.cpsctl) card certs --export \(dir) \(options)", environment: env)
                #expect(export.status == 0, "\(export.stderr)")
                #expect(export.stderr.contains("Access: via cpsd"))
                let outcomes = try SignatureMatrix.run(
                    cpsctl: Self.cpsctl, options: options, directory: dir, environment: env,
                    pinFile: try Self.secretFile(["1234"]))
                #expect(outcomes.count == 6)
                for outcome in outcomes {
                    #expect(outcome.sign.status == 0, "\(outcome.label): \(outcome.sign.stderr)")
                    #expect(outcome.sign.stderr.contains("via cpsd."), "\(outcome.label): \(outcome.sign.stderr)")
                    #expect(outcome.verified, "\(outcome.label): \(outcome.check.output)")
                }
                #expect(stack.cards[0].state.pin.triesLeft == 3)
                #expect(daemon.log.components(separatedBy: " signature").count - 1 >= 6, "cpsd made the signatures: \(daemon.log)")
            }
        }
    }

    @Test("pin change, a wrong PIN, the last-try guard and pin unblock via cpsd change the card")
    func pinLifecycle() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 1)
            try await TestDaemon.with(stack) { daemon in
                let env = stack.environment
                let options = "--reader '\(stack.readerName(1))' --daemon-socket \(daemon.socketPath)"
                let change = try ToolRunner.shell(
                    "\(Self.cpsctl) pin change \(options) --pin-fd 3 3<\(try Self.secretFile(["1234", "4321"]))", environment: env)
                #expect(change.status == 0, "\(change.stderr)")
                #expect(change.stderr.contains("Access: via cpsd"))
                #expect(change.stderr.contains("PIN: 3 of 3 tries left"))
                #expect(stack.cards[1].state.pin.value == Array("4321".utf8))

                let signWith = { (code: String, extra: String) in
                    try ToolRunner.shell(
                        "\(Self.cpsctl) sign \(options) \(extra) --key sig --mechanism SHA256-RSA-PKCS --in /etc/hostname --out /dev/null --pin-fd 3 3<\(try Self.secretFile([code]))",
                        environment: env)
                }
                let wrong = try signWith("0000", "")
                #expect(wrong.status != 0)
                #expect(wrong.stderr.contains("2 tries left"), "\(wrong.stderr)")
                #expect(stack.cards[1].state.pin.triesLeft == 2, "exactly one try spent")
                let info = try ToolRunner.shell("\(Self.cpsctl) card info --json \(options)", environment: env)
                #expect((try Self.json(info)["pin"] as? [String: Int])?["triesLeft"] == 2, "COUNT_LOW on a 3-try PIN")

                let second = try signWith("0000", "")
                #expect(second.stderr.contains("1 tries left"), "\(second.stderr)")
                let guarded = try signWith("0000", "")
                #expect(guarded.status != 0)
                #expect(guarded.stderr.contains("Last PIN try left: not spent"), "\(guarded.stderr)")
                #expect(stack.cards[1].state.pin.triesLeft == 1, "the last try is not spent without confirmation")

                let wrongPUK = try ToolRunner.shell(
                    "\(Self.cpsctl) pin unblock \(options) --puk-fd 3 --pin-fd 4 3<\(try Self.secretFile(["87654321"])) 4<\(try Self.secretFile(["5678"]))",
                    environment: env)
                #expect(wrongPUK.status != 0)
                #expect(wrongPUK.stderr.contains("2 tries left"), "PUK tries from the SO flags: \(wrongPUK.stderr)")
                #expect(stack.cards[1].state.puk.triesLeft == 2)
                #expect(stack.cards[1].state.pin.triesLeft == 1, "a wrong PUK leaves the PIN alone")

                let unblock = try ToolRunner.shell(
                    "\(Self.cpsctl) pin unblock \(options) --puk-fd 3 --pin-fd 4 3<\(try Self.secretFile(["12345678"])) 4<\(try Self.secretFile(["5678"]))",
                    environment: env)
                #expect(unblock.status == 0, "\(unblock.stderr)")
                #expect(unblock.stderr.contains("Unblocks left: unknown through cpsd"))
                #expect(stack.cards[1].state.pin == Credential(value: Array("5678".utf8)))
                #expect(stack.cards[1].state.unblocksLeft == TestCards.defaultState.unblocksLeft - 1)
                let signed = try signWith("5678", "")
                #expect(signed.status == 0, "the new PIN works through cpsd: \(signed.stderr)")
                #expect(daemon.log.contains("PIN changed") && daemon.log.contains("PIN unblocked"), "\(daemon.log)")
                #expect(!daemon.log.contains("12345678"), "the PUK never reaches the log")
            }
        }
    }

    @Test("a malformed PIN is refused before cpsd or the card see it", arguments: ["123", "12a4"])
    func malformedPIN(code: String) async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try await TestDaemon.with(stack) { daemon in
                let result = try ToolRunner.shell(
                    "\(Self.cpsctl) pin change --reader '\(stack.readerName(0))' --daemon-socket \(daemon.socketPath) --pin-fd 3 3<\(try Self.secretFile([code, "1111"]))",
                    environment: stack.environment)
                #expect(result.status != 0)
                #expect(result.stderr.contains("exactly 4 digits"), "\(result.stderr)")
                #expect(stack.cards[0].state.pin == Credential(value: Array("1234".utf8)))
            }
        }
    }

    @Test("with cpsd stopped (stale socket) or absent, the commands fall back to direct and work")
    func fallbackToDirect() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let stale = try await TestDaemon.with(stack) { daemon in daemon.socketPath }
            let env = stack.environment
            for socket in [stale, "/nonexistent/cpsd/pkcs11"] {
                let options = "--reader '\(stack.readerName(0))' --daemon-socket \(socket)"
                let info = try ToolRunner.shell("\(Self.cpsctl) card info --json \(options)", environment: env)
                #expect(info.status == 0, "\(info.stderr)")
                #expect(info.stderr.contains("Access: direct (PC/SC; no cpsd answers at \(socket))"), "\(info.stderr)")
                #expect(try Self.json(info)["access"] as? String == "direct")
                #expect(try Self.json(info)["unblocksLeft"] as? Int == TestCards.defaultState.unblocksLeft)
            }
            let options = "--reader '\(stack.readerName(0))' --daemon-socket \(stale)"
            let sign = try ToolRunner.shell(
                "\(Self.cpsctl) sign \(options) --key auth --mechanism SHA256-RSA-PKCS --in /etc/hostname --out /dev/null --pin-fd 3 3<\(try Self.secretFile(["1234"]))",
                environment: env)
            #expect(sign.status == 0, "\(sign.stderr)")
            #expect(!sign.stderr.contains("via cpsd"))
            let change = try ToolRunner.shell(
                "\(Self.cpsctl) pin change \(options) --pin-fd 3 3<\(try Self.secretFile(["1234", "2468"]))", environment: env)
            #expect(change.status == 0, "\(change.stderr)")
            #expect(change.stderr.contains("Access: direct"))
            #expect(stack.cards[0].state.pin.value == Array("2468".utf8))
        }
    }

    @Test("--direct goes to pcscd even when cpsd answers")
    func directForced() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            try await TestDaemon.with(stack) { daemon in
                let before = daemon.log.components(separatedBy: "cpsctl)").count
                let info = try ToolRunner.run(
                    Self.cpsctl,
                    ["card", "info", "--json", "--direct", "--reader", stack.readerName(0), "--daemon-socket", daemon.socketPath],
                    environment: stack.environment)
                #expect(info.stderr.contains("Access: direct (PC/SC, --direct)"), "\(info.stderr)")
                #expect(info.status == 0, "direct works beside cpsd (shared access): \(info.stderr)")
                #expect(try Self.json(info)["access"] as? String == "direct")
                #expect(daemon.log.components(separatedBy: "cpsctl)").count == before, "cpsd saw no cpsctl client")
            }
        }
    }
}

/// A cpsd started for one test on a private socket, with the stack's pcscd; SIGTERMed at the end.
/// (Private to this file on purpose: the shared DaemonProcess helper is being written elsewhere.)
/// A cpsd for one test (CardTestSupport's DaemonProcess: it dies with the test process), ready once it
/// serves the stack's cards.
private final class TestDaemon: @unchecked Sendable {
    private let daemon: DaemonProcess
    var socketPath: String { daemon.socketPath }
    var log: String { daemon.log }

    private init(environment: [String: String]) throws {
        daemon = try DaemonProcess(environment: environment)
    }

    /// Starts cpsd, waits until it serves the stack's cards, runs `body`, then stops it.
    static func with<R>(_ stack: RealStack, _ body: (TestDaemon) async throws -> R) async throws -> R {
        let daemon = try TestDaemon(environment: stack.environment)
        defer { _ = daemon.daemon.stop() }
        try await daemon.waitUntilServing(stack)
        return try await body(daemon)
    }

    /// Until `cpsctl card info` through this socket succeeds for every reader holding a card.
    private func waitUntilServing(_ stack: RealStack) async throws {
        let deadline = Date().addingTimeInterval(20)
        for index in 0..<RealStack.readerCount {
            while true {
                let probe = try ToolRunner.run(
                    ToolRunner.executable("cpsctl"),
                    ["card", "info", "--json", "--reader", stack.readerName(index), "--daemon-socket", socketPath],
                    environment: stack.environment)
                if probe.status == 0, probe.stdout.contains("via cpsd") { break }
                guard Date() < deadline, !daemon.hasExited else {
                    throw DaemonStartError(description: "cpsd did not serve reader \(index): \(probe.output)\n\(log)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

private struct DaemonStartError: Error, CustomStringConvertible {
    let description: String
}
