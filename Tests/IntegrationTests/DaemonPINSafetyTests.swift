import CardTestSupport
import Foundation
import PCSC
import SmartCardCore
import Testing
import VirtualCard

/// Issue 10, item 1, on the real stack: a PyKCS11 client (standing in for Firefox) holds a login through
/// cpsd while the PIN changes, through cpsd or behind its back. cpsd never spends a try on the PIN it
/// keeps for that client, and never sends it again once the card refused it.
@Suite("cpsd never burns a PIN try with a kept PIN")
struct DaemonPINSafetyTests {
    static let cpsctl = ToolRunner.executable("cpsctl")
    static let digestInfo = "3031300d060960864801650304020105000420" + String(repeating: "ab", count: 32)

    /// Opens a session, logs in with `pin`, signs once, and returns the authentication key's handle.
    static func loggedInClient(_ daemon: DaemonProcess, pin: String = "1234") throws -> (PythonClient, Int) {
        let client = try PythonClient(environment: daemon.environment)
        #expect(PythonClient.outcome(try client.send(["op": "open"])) == "ok", "\(client.stderr)")
        #expect(PythonClient.outcome(try client.send(["op": "login", "pin": pin])) == "ok")
        let keys = try #require(try client.send(["op": "keys"])["keys"] as? [[String: Any]])
        let handle = try #require(keys.first { $0["label"] as? String == "CPS_PRIV_AUT" }?["handle"] as? Int)
        #expect(try sign(client, handle) == "ok")
        return (client, handle)
    }

    static func sign(_ client: PythonClient, _ handle: Int) throws -> String {
        PythonClient.outcome(try client.send(["op": "sign", "handle": handle, "mech": "RSA_PKCS", "data": digestInfo]))
    }

    /// `cpsctl pin change` from old to new, through cpsd or (`direct`) straight through pcscd.
    static func changePIN(
        _ stack: RealStack, _ daemon: DaemonProcess, from old: String, to new: String, direct: Bool
    ) throws -> ToolRunner.Result {
        let route = direct ? "--direct" : "--daemon-socket \(daemon.socketPath)"
        let codes = try CPSCtlCardTests.secretFile([old, new])
        return try ToolRunner.shell(
            "\(cpsctl) pin change --reader '\(stack.readerName(0))' \(route) --pin-fd 3 3<\(codes)",
            environment: stack.environment)
    }

    /// The counter as a direct PC/SC reader sees it (`cpsctl card info --direct`), which spends no try.
    static func triesLeftOnCard(_ stack: RealStack) throws -> Int? {
        let info = try ToolRunner.run(
            cpsctl, ["card", "info", "--json", "--direct", "--reader", stack.readerName(0)], environment: stack.environment)
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        return (json?["pin"] as? [String: Any])?["triesLeft"] as? Int
    }

    @Test("PIN changed through cpsd: the other client's next signatures need a new login, 3 of 3 tries left")
    func changeThroughCpsd() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let (client, handle) = try Self.loggedInClient(daemon)
            defer { client.kill() }
            let change = try Self.changePIN(stack, daemon, from: "1234", to: "4321", direct: false)
            #expect(change.status == 0, "\(change.stderr)")
            #expect(change.stderr.contains("via cpsd"), "\(change.stderr)")
            for attempt in 0..<3 {
                #expect(try Self.sign(client, handle) == "CKR_USER_NOT_LOGGED_IN", "signature \(attempt) after the change")
            }
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            #expect(try Self.triesLeftOnCard(stack) == 3)
            // The practitioner logs in again with the new PIN: signing works.
            #expect(PythonClient.outcome(try client.send(["op": "login", "pin": "4321"])) == "ok")
            #expect(try Self.sign(client, handle) == "ok")
        }
    }

    @Test("PIN changed by a direct PC/SC client: one refused VERIFY at most, then never again")
    func changeBehindCpsdsBack() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let (client, handle) = try Self.loggedInClient(daemon)
            defer { client.kill() }
            let change = try Self.changePIN(stack, daemon, from: "1234", to: "4321", direct: true)
            #expect(change.status == 0, "\(change.stderr)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            // A correct change leaves the counter at its maximum: nothing on the card tells cpsd, so the
            // one VERIFY that finds out costs one try; the kept PIN is then forgotten.
            #expect(try Self.sign(client, handle) == "CKR_PIN_INCORRECT")
            #expect(try Self.sign(client, handle) == "CKR_USER_NOT_LOGGED_IN")
            #expect(try Self.sign(client, handle) == "CKR_USER_NOT_LOGGED_IN")
            #expect(stack.cards[0].state.pin.triesLeft == 2)
            #expect(PythonClient.outcome(try client.send(["op": "login", "pin": "4321"])) == "ok")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a try spent by a direct PC/SC client: cpsd sees the counter moved and sends no kept PIN")
    func counterMovedBehindCpsdsBack() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let (client, handle) = try Self.loggedInClient(daemon)
            defer { client.kill() }
            let wrong = try Self.changePIN(stack, daemon, from: "0000", to: "4321", direct: true)
            #expect(wrong.status != 0)
            #expect(stack.cards[0].state.pin.triesLeft == 2)
            #expect(try Self.sign(client, handle) == "CKR_USER_NOT_LOGGED_IN")
            #expect(try Self.sign(client, handle) == "CKR_USER_NOT_LOGGED_IN")
            #expect(stack.cards[0].state.pin.triesLeft == 2, "cpsd spent a try with the kept PIN")
            let tokenInfo = try DaemonTest.tool(daemon, ["-T"])
            #expect(tokenInfo.stdout.contains("user PIN count low"), "\(tokenInfo.stdout)")
        }
    }

    /// Whether credential `reference` (01 PIN, 02 PUK) is verified on the card now, asked over a PC/SC
    /// connection of the test's own with VERIFY without data (9000 only when verified; costs no try), in a
    /// transaction of its own as any other middleware: it gets the card once cpsd's hold (`verified-hold-ms`)
    /// has ended.
    static func isVerified(_ stack: RealStack, reference: UInt8) throws -> Bool {
        let connection = try PCSCBackend().connect(to: stack.readerName(0))
        defer { connection.disconnect(.leave) }
        return try connection.withTransaction { session in
            try session.transmitRaw([0x00, 0x20, 0x00, reference]).bytes == [0x90, 0x00]
        }
    }

    @Test("the card is not left verified between operations: after C_Login, a signature, an SO login")
    func notLeftVerified() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let (client, handle) = try Self.loggedInClient(daemon)
            defer { client.kill() }
            #expect(try !Self.isVerified(stack, reference: 0x01), "the PIN stayed verified after C_Login + C_Sign")
            #expect(try Self.sign(client, handle) == "ok", "the kept PIN is verified again inside the signature")
            #expect(try !Self.isVerified(stack, reference: 0x01), "the PIN stayed verified after a signature")
            let officer = try PythonClient(environment: daemon.environment)
            defer { officer.kill() }
            #expect(PythonClient.outcome(try officer.send(["op": "open", "rw": true])) == "ok", "\(officer.stderr)")
            #expect(PythonClient.outcome(try officer.send(["op": "login", "pin": "12345678", "so": true])) == "ok")
            #expect(try !Self.isVerified(stack, reference: 0x02), "the PUK stayed verified after the SO login")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            #expect(stack.cards[0].state.puk.triesLeft == 3)
        }
    }
}
