import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard
import VirtualReaderStack

/// Two PyKCS11 consumers (one per process) sharing one cpsd: login is per client, a client's death
/// or logout does not disturb the other, card removal and reinsertion, and a reader that appears later.
@Suite("cpsd with two PyKCS11 clients")
struct DaemonMultiClientTests {
    /// CKRs PKCS#11 allows for a session whose token was removed (§5.6 C_GetSessionInfo and friends:
    /// the session is gone, or the device is).
    static let removedCodes: Set<String> = [
        "CKR_DEVICE_REMOVED", "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_TOKEN_NOT_PRESENT",
    ]

    static func sign(_ client: PythonClient, key: String = DaemonTest.authID, mech: String = "SHA256_RSA_PKCS")
        throws -> String
    {
        let mechanism = key == DaemonTest.authID && mech == "SHA256_RSA_PKCS" ? "RSA_PKCS" : mech
        let digestInfo = "3031300d060960864801650304020105000420" + String(repeating: "ab", count: 32)
        let data = mechanism == "RSA_PKCS" ? digestInfo : "6f72646f6e6e616e6365"
        return PythonClient.outcome(try client.send(["op": "sign", "id": key, "mech": mechanism, "data": data]))
    }

    @Test("login is per client; logout and death of one client leave the other logged in")
    func twoClients() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let a = try PythonClient(environment: daemon.environment)
            let b = try PythonClient(environment: daemon.environment)
            defer {
                a.kill()
                b.kill()
            }
            #expect(PythonClient.outcome(try a.send(["op": "open"])) == "ok", "\(a.stderr)")
            #expect(PythonClient.outcome(try b.send(["op": "open"])) == "ok", "\(b.stderr)")
            #expect(PythonClient.outcome(try a.send(["op": "login", "pin": "1234"])) == "ok")
            let keysA = try #require(try a.send(["op": "keys"])["keys"] as? [[String: Any]])
            #expect(Set(keysA.compactMap { $0["label"] as? String }) == ["CPS_PRIV_AUT", "CPS_PRIV_SIG"])
            #expect(try Self.sign(a) == "ok")
            #expect(try Self.sign(a, key: DaemonTest.sigID) == "ok")

            // B is not logged in: no private key visible, and A's key handle does not sign for B.
            let keysB = try #require(try b.send(["op": "keys"])["keys"] as? [[String: Any]])
            #expect(keysB.isEmpty, "\(keysB)")
            #expect(try Self.sign(b) == "NO_KEY")
            let handle = try #require(keysA.first { $0["label"] as? String == "CPS_PRIV_AUT" }?["handle"] as? Int)
            let digestInfo = "3031300d060960864801650304020105000420" + String(repeating: "cd", count: 32)
            let stolen = PythonClient.outcome(
                try b.send(["op": "sign", "handle": handle, "mech": "RSA_PKCS", "data": digestInfo]))
            #expect(
                ["CKR_USER_NOT_LOGGED_IN", "CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID"].contains(stolen),
                "B signed with A's handle: \(stolen)")
            if ProcessInfo.processInfo.environment["CPSD_TEST_DUMP"] != nil { print("DUMP stolen handle", stolen) }

            // B logs in and signs while A stays logged in; B logs out, A still signs.
            #expect(PythonClient.outcome(try b.send(["op": "login", "pin": "1234"])) == "ok")
            #expect(try Self.sign(b) == "ok")
            #expect(try Self.sign(a) == "ok")
            #expect(PythonClient.outcome(try b.send(["op": "logout"])) == "ok")
            #expect(try Self.sign(b) == "NO_KEY")
            #expect(try Self.sign(a) == "ok")

            // B dies (SIGKILL, logged in again): A is not disturbed.
            #expect(PythonClient.outcome(try b.send(["op": "login", "pin": "1234"])) == "ok")
            b.kill()
            #expect(try Self.sign(a, key: DaemonTest.sigID, mech: "SHA1_RSA_PKCS") == "ok")
            #expect(try Self.sign(a) == "ok")
            #expect(!daemon.hasExited)
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("card removal ends the session with a CKR the spec allows; reinsertion: new session signs")
    func removalAndReinsertion() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let a = try PythonClient(environment: daemon.environment)
            defer { a.kill() }
            #expect(PythonClient.outcome(try a.send(["op": "open"])) == "ok", "\(a.stderr)")
            #expect(PythonClient.outcome(try a.send(["op": "login", "pin": "1234"])) == "ok")
            #expect(try Self.sign(a) == "ok")

            try stack.removeCard(reader: 0)
            let afterRemoval = try Self.sign(a)
            #expect(Self.removedCodes.contains(afterRemoval), "sign after removal: \(afterRemoval)")
            if ProcessInfo.processInfo.environment["CPSD_TEST_DUMP"] != nil { print("DUMP after removal", afterRemoval) }
            // No token left. (Through p11-kit's RPC an empty C_GetSlotList with a non-NULL buffer comes back
            // as CKR_BUFFER_TOO_SMALL, which PyKCS11 raises; pkcs11-tool, asking the count first, sees none.)
            let slotsAnswer = try a.send(["op": "slots"])
            let slots = slotsAnswer["slots"] as? [[String: Any]]
            #expect(slots?.isEmpty == true || PythonClient.outcome(slotsAnswer) == "CKR_BUFFER_TOO_SMALL", "\(slotsAnswer)")
            let tokens = try DaemonTest.tool(daemon, ["-L"])
            #expect(tokens.status == 0 && !tokens.stdout.contains("token label"), "\(tokens.output)")

            try stack.reinsertCard(reader: 0)
            var reopened = "?"
            for _ in 0..<50 {  // cpsd learns of the card from pcscd's reader events
                reopened = PythonClient.outcome(try a.send(["op": "open"]))
                if reopened == "ok" { break }
                usleep(100_000)
            }
            #expect(reopened == "ok", "\(daemon.logTail())")
            // A reinserted card is a new token session: the PIN must be presented again.
            #expect(try Self.sign(a) == "NO_KEY")
            #expect(PythonClient.outcome(try a.send(["op": "login", "pin": "1234"])) == "ok")
            #expect(try Self.sign(a) == "ok")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a reader that appears after a pcscd restart shows up in a running client's slot list")
    func readerAppearsLater() async throws {
        // A stack of its own: four readers, of which pcscd first knows only the first two.
        let directory = URL(fileURLWithPath: "/tmp/cpsd-dm-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await RealStack.withStack { _ in
            let stack = VirtualStack(directory: directory, readerCount: 4)
            defer { stack.stop() }
            try stack.start(cards: [TestCards.card(), nil, TestCards.card()])
            try stack.restartPCSCD(readerCount: 2)
            let daemon = try DaemonProcess(environment: stack.environment)
            defer { daemon.stop() }
            try DaemonTest.waitForTokens(daemon, count: 1)
            let client = try PythonClient(environment: daemon.environment)
            defer { client.kill() }
            let beforeAnswer = try client.send(["op": "slots"])
            let before = try #require(beforeAnswer["slots"] as? [[String: Any]], "\(beforeAnswer) \(client.stderr)")
            #expect(before.count == 1, "\(before)")

            try stack.restartPCSCD(readerCount: 4)
            var after: [[String: Any]] = []
            for _ in 0..<100 {  // cpsd reconnects to the new pcscd and sees its readers
                let answer = try client.send(["op": "slots"])
                // While pcscd restarts there may be no token: p11-kit's RPC then answers PyKCS11's
                // C_GetSlotList with CKR_BUFFER_TOO_SMALL (see removalAndReinsertion).
                if PythonClient.outcome(answer) == "CKR_BUFFER_TOO_SMALL" { after = [] } else {
                    after = try #require(answer["slots"] as? [[String: Any]], "\(answer)")
                }
                if after.count == 2 { break }
                usleep(100_000)
            }
            #expect(after.count == 2, "\(after)\n\(daemon.logTail())")
            #expect(after.allSatisfy { $0["label"] as? String == DaemonTest.tokenLabel })
            // The new reader's token works from the same running client.
            let old = Set(before.compactMap { $0["slot"] as? Int })
            let new = try #require(after.compactMap { $0["slot"] as? Int }.first { !old.contains($0) }, "\(after)")
            #expect(PythonClient.outcome(try client.send(["op": "open", "slot": new])) == "ok")
            #expect(PythonClient.outcome(try client.send(["op": "login", "pin": "1234"])) == "ok")
            #expect(try Self.sign(client) == "ok")
            #expect(daemon.stop(), "\(daemon.logTail())")
        }
    }
}
