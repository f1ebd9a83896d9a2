import BridgeProtocol
import BrowserBridge
import Foundation
import Testing

@Suite("Bridge policy (pure)")
struct BridgePolicyTests {
    let policy = CallerPolicy(port: 36443)
    let chromium = "chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk"

    private func head(
        _ method: String = "POST", host: String = "127.0.0.1:36443", origin: String? = nil,
        extra: [(String, String)] = [("X-CPS-Bridge", "1"), ("Content-Type", "application/json")]
    ) -> BridgeRequestHead {
        var headers: [(name: String, value: String)] = [("Host", host)]
        if let origin { headers.append(("Origin", origin)) }
        headers += extra.map { (name: $0.0, value: $0.1) }
        return BridgeRequestHead(method: method, path: "/v1/authenticate", headers: headers)
    }

    private func refusal(_ head: BridgeRequestHead) -> BridgeError.Code? {
        do {
            _ = try policy.admit(head)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("the extension's own request is admitted, with its bearer token")
    func admitted() throws {
        let caller = try policy.admit(head(origin: chromium, extra: [
            ("x-cps-bridge", "1"), ("content-type", "application/json; charset=utf-8"), ("Authorization", "Bearer abc"),
        ]))
        #expect(caller.origin == chromium)
        #expect(caller.bearerToken == "abc")
        #expect(refusal(head(host: "[::1]:36443", origin: chromium)) == nil)
        #expect(refusal(head(host: "LOCALHOST:36443", origin: chromium)) == nil)
    }

    @Test("each rule refuses with its own code")
    func refusals() {
        #expect(refusal(head(host: "evil.example:36443", origin: chromium)) == .hostNotAllowed)
        #expect(refusal(head(host: "127.0.0.1:36444", origin: chromium)) == .hostNotAllowed)
        #expect(refusal(BridgeRequestHead(method: "POST", path: "/", headers: [("Host", "127.0.0.1:36443"), ("Host", "127.0.0.1:36443")])) == .hostNotAllowed)
        #expect(refusal(head(origin: nil)) == .callerOrigin)
        #expect(refusal(head(origin: "null")) == .callerOrigin)
        #expect(refusal(head(origin: "https://evil.example")) == .callerOrigin)
        #expect(refusal(head(origin: chromium + "/path")) == .callerOrigin)
        #expect(refusal(head(origin: "moz-extension://not-a-uuid")) == .callerOrigin)
        #expect(refusal(head(origin: "moz-extension://0b5e7a9c-4d1f-4c2e-9a8b-1234567890ab")) == nil)
        #expect(refusal(head("OPTIONS", origin: chromium)) == .callerOrigin)
        #expect(refusal(head(origin: chromium, extra: [("Content-Type", "application/json")])) == .callerOrigin)
        #expect(refusal(head(origin: chromium, extra: [("X-CPS-Bridge", "1"), ("Content-Type", "text/plain")])) == .unsupportedMediaType)
        #expect(refusal(head(origin: chromium, extra: [("X-CPS-Bridge", "1")])) == .unsupportedMediaType)
        // Found by `make fuzz`: an empty or bare-";" Content-Type used to crash cpsd (index out of range).
        for empty in ["", ";", " ; charset=utf-8"] {
            #expect(refusal(head(origin: chromium, extra: [("X-CPS-Bridge", "1"), ("Content-Type", empty)])) == .unsupportedMediaType)
        }
        #expect(refusal(head(origin: chromium, extra: [
            ("X-CPS-Bridge", "1"), ("Content-Type", "application/json"), ("Content-Length", "8193"),
        ])) == .payloadTooLarge)
        #expect(refusal(head(origin: chromium, extra: [
            ("X-CPS-Bridge", "1"), ("Content-Type", "application/json"), ("Authorization", "Basic eDp5"),
        ])) == .unauthorizedCaller)
        #expect(refusal(head("GET", origin: chromium, extra: [("X-CPS-Bridge", "1")])) == nil)
    }

    @Test("a configured extra Chromium id is accepted, no other")
    func extraIDs() {
        let configured = CallerPolicy(port: 36443, extraChromiumIDs: ["abcdefghijklmnopabcdefghijklmnop"])
        #expect(configured.isExtensionOrigin("chrome-extension://abcdefghijklmnopabcdefghijklmnop"))
        #expect(!policy.isExtensionOrigin("chrome-extension://abcdefghijklmnopabcdefghijklmnop"))
    }

    @Test("pairing: the code works once, within its lifetime, for the origin that started it")
    func pairing() throws {
        var book = PairingBook()
        let now = Date()
        let pending = try book.start(origin: chromium, now: now)
        #expect(pending.code.count == 6 && pending.code.allSatisfy(\.isNumber))
        #expect(throws: BridgeError.self) { try book.finish(id: pending.id, code: pending.code, origin: "moz-extension://x", now: now) }
        let again = try book.start(origin: chromium, now: now)
        #expect(throws: BridgeError.self) {
            try book.finish(id: again.id, code: again.code, origin: chromium, now: now.addingTimeInterval(PairingBook.lifetime + 1))
        }
        let third = try book.start(origin: chromium, now: now)
        let token = try book.finish(id: third.id, code: third.code, origin: chromium, now: now)
        #expect(book.isPaired(origin: chromium, token: token))
        #expect(!book.isPaired(origin: chromium, token: token + "x"))
        #expect(!book.isPaired(origin: "moz-extension://0b5e7a9c-4d1f-4c2e-9a8b-1234567890ab", token: token))
        #expect(book.paired.allSatisfy { $0.tokenSHA256 != token })
        #expect(throws: BridgeError.self) { try book.finish(id: third.id, code: third.code, origin: chromium, now: now) }
    }

    @Test("rate limiter: a burst, then the refill rate, per caller")
    func rateLimiter() {
        var limiter = RateLimiter(burst: 3, perSecond: 1)
        let now = Date()
        let answers = [
            limiter.admit("a", now: now), limiter.admit("a", now: now), limiter.admit("a", now: now),
            limiter.admit("a", now: now), limiter.admit("b", now: now),
            limiter.admit("a", now: now.addingTimeInterval(1.01)), limiter.admit("a", now: now.addingTimeInterval(1.02)),
        ]
        #expect(answers == [true, true, true, false, true, true, false])
    }

    @Test("one operation at a time; a cancel that comes before the dialog is applied when it registers")
    func gate() throws {
        let gate = OperationGate()
        let ticket = try gate.begin(requestID: "r1", caller: chromium)
        #expect(throws: BridgeError.self) { try gate.begin(requestID: "r2", caller: chromium) }
        #expect(!gate.cancel(requestID: "r1", caller: "moz-extension://other"))
        #expect(gate.cancel(requestID: "r1", caller: chromium))
        let ran = LockedFlag()
        ticket.hook.onCancel { ran.set() }
        #expect(ran.value)
        #expect(!ticket.hook.closeCancellation())
        gate.end(ticket)
        let next = try gate.begin(requestID: nil, caller: chromium)
        #expect(next.hook.closeCancellation())
        #expect(!next.hook.cancel(), "past the dialog, the card's work is not cancellable")
    }

    @Test("a signed (origin, nonce) is remembered for its lifetime")
    func recentChallenges() {
        var recent = RecentChallenges()
        let now = Date()
        recent.record(origin: "https://a.example", nonce: "n", now: now)
        #expect(recent.contains(origin: "https://a.example", nonce: "n", now: now))
        #expect(!recent.contains(origin: "https://b.example", nonce: "n", now: now))
        #expect(!recent.contains(origin: "https://a.example", nonce: "n", now: now.addingTimeInterval(RecentChallenges.lifetime + 1)))
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}
