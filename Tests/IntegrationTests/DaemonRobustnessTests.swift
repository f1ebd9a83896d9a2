import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard
import VirtualReaderStack

/// Things that go wrong around cpsd — a client killed mid-signature, pcscd restarting, garbage on the
/// socket — each leave it serving other clients: a fresh `pkcs11-tool -L` and a signature work after.
@Suite("cpsd robustness")
struct DaemonRobustnessTests {
    /// The daemon still runs, lists its token and signs (verified by OpenSSL).
    static func expectServing(_ daemon: DaemonProcess, _ what: String) throws {
        #expect(!daemon.hasExited, "cpsd exited after \(what):\n\(daemon.logTail())")
        var listing = try DaemonTest.tool(daemon, ["-L"])
        for _ in 0..<50 where !listing.stdout.contains(DaemonTest.tokenLabel) {  // after pcscd restarts
            usleep(100_000)
            listing = try DaemonTest.tool(daemon, ["-L"])
        }
        #expect(listing.status == 0, "after \(what): \(listing.output)")
        #expect(listing.stdout.contains("token label        : \(DaemonTest.tokenLabel)"), "after \(what): \(listing.output)")
        let directory = TestCards.temporaryDirectory("cpsd-robust")
        defer { try? FileManager.default.removeItem(at: directory) }
        let failure = try DaemonTest.signAndVerify(daemon, keyID: DaemonTest.sigID, mechanism: "SHA256-RSA-PKCS", in: directory)
        #expect(failure == nil, "after \(what): \(failure ?? "")\n\(daemon.logTail())")
    }

    @Test("a client SIGKILLed in a loop of signatures leaves no login behind and cpsd serving")
    func clientKilledMidOperation() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let victim = try PythonClient(environment: daemon.environment)
            defer { victim.kill() }
            #expect(PythonClient.outcome(try victim.send(["op": "open"])) == "ok", "\(victim.stderr)")
            #expect(PythonClient.outcome(try victim.send(["op": "login", "pin": "1234"])) == "ok")
            let started = try victim.send(["op": "signloop", "id": DaemonTest.sigID])
            #expect(started["started"] as? Bool == true, "\(started) \(victim.stderr)")
            // Let a few signatures go through, so the kill lands in the middle of one or between two.
            let before = daemon.log.components(separatedBy: "CPS_PRIV_SIG").count
            for _ in 0..<100 where daemon.log.components(separatedBy: "CPS_PRIV_SIG").count < before + 3 {
                usleep(50_000)
            }
            #expect(daemon.log.components(separatedBy: "CPS_PRIV_SIG").count > before, "no signature before the kill")
            victim.kill()

            // Another client is not logged in by the dead one's login.
            let observer = try PythonClient(environment: daemon.environment)
            defer { observer.kill() }
            #expect(PythonClient.outcome(try observer.send(["op": "open"])) == "ok", "\(observer.stderr)")
            let keys = try #require(try observer.send(["op": "keys"])["keys"] as? [[String: Any]])
            #expect(keys.isEmpty, "private keys visible without login after the killed client: \(keys)")
            try Self.expectServing(daemon, "a client killed mid-signature")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("pcscd stopped and started again: cpsd reconnects and serves")
    func pcscdRestart() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            try Self.expectServing(daemon, "start")
            stack.stack.stopPCSCD()
            let empty = try DaemonTest.tool(daemon, ["-L"])
            #expect(!daemon.hasExited, "cpsd exited when pcscd stopped:\n\(daemon.logTail())")
            #expect(!empty.stdout.contains("token label"), "token still listed without pcscd: \(empty.output)")
            try stack.stack.startPCSCD()
            try Self.expectServing(daemon, "a pcscd restart")
        }
    }

    @Test("malformed RPC frames on the socket leave cpsd serving", arguments: MalformedFrames.all)
    func malformedFrames(frame: [UInt8]) async throws {
        try await DaemonTest.withDaemon(singleCard: true) { _, daemon in
            let answer = try daemon.exchangeRaw(frame, timeout: 2)
            if ProcessInfo.processInfo.environment["CPSD_TEST_DUMP"] != nil { print("DUMP frame answer", answer.prefix(16)) }
            // A second garbage connection left open while the real client works.
            let lingering = try DaemonProcess.connect(daemon.socketPath)
            defer { close(lingering) }
            _ = frame.withUnsafeBytes { send(lingering, $0.baseAddress, min($0.count, 16), Int32(MSG_NOSIGNAL)) }
            try Self.expectServing(daemon, "a malformed frame (\(frame.prefix(8)))")
        }
    }
}

enum MalformedFrames {
    /// Garbage for the socket: not RPC at all, a lone version byte, absurd lengths, an unknown call, noise.
    static let all: [[UInt8]] = {
        let http: [UInt8] = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        let hugeLengths: [UInt8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 64)
        let unknownCall: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00] + [UInt8](repeating: 0xEE, count: 16)
        var noise: [UInt8] = []
        for index in 0..<4096 { noise.append(UInt8(truncatingIfNeeded: index &* 131 &+ 7)) }
        return [http, [0x00], hugeLengths, unknownCall, noise]
    }()
}
