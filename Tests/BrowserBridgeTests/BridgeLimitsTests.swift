import BrowserBridge
import Foundation
import Testing

/// The bounded tables and caps that keep the bridge's memory and descriptors finite (pure).
@Suite("Bridge limits (pure)")
struct BridgeLimitsTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test("rate limiter: burst, then refusals, then refill with time")
    func bucket() {
        var limiter = RateLimiter(burst: 3, perSecond: 1)
        let answers = [
            limiter.admit("a", now: start), limiter.admit("a", now: start), limiter.admit("a", now: start),
            limiter.admit("a", now: start),  // burst spent
            limiter.admit("b", now: start),  // another key has its own bucket
            limiter.admit("a", now: start.addingTimeInterval(1)),  // one token back after a second
            limiter.admit("a", now: start.addingTimeInterval(1)),
        ]
        #expect(answers == [true, true, true, false, true, true, false])
    }

    @Test("rate limiter table: never more than its capacity, even when every bucket is in use")
    func bounded() {
        var limiter = RateLimiter(burst: 2, perSecond: 0.001, capacity: 256)
        var largest = 0
        for index in 0..<3000 {
            _ = limiter.admit("moz-extension://\(index)", now: start.addingTimeInterval(Double(index) / 1000))
            largest = max(largest, limiter.count)
        }
        #expect(largest == 256)
    }

    @Test("rate limiter table: the least recently used key is evicted, a recent one keeps its state")
    func evictsOldest() {
        var limiter = RateLimiter(burst: 1, perSecond: 0.001, capacity: 3)
        let filling = [
            limiter.admit("old", now: start), limiter.admit("mid", now: start.addingTimeInterval(1)),
            limiter.admit("new", now: start.addingTimeInterval(2)),
            limiter.admit("mid", now: start.addingTimeInterval(3)),  // mid's bucket is empty
            limiter.admit("fourth", now: start.addingTimeInterval(4)),  // a fourth key makes room
        ]
        #expect(filling == [true, true, true, false, true])
        #expect(limiter.count == 3)
        let mid = limiter.admit("mid", now: start.addingTimeInterval(5))
        #expect(!mid, "mid was used recently: kept, and still empty")
        let old = limiter.admit("old", now: start.addingTimeInterval(6))
        #expect(old, "old was the least recently used: evicted, so a fresh bucket")
    }

    @Test("pairing starts are limited globally: fresh origins do not get fresh tries")
    func globalPairing() {
        let limits = LimitTable()
        let origins = (0..<20).map { "moz-extension://00000000-0000-4000-8000-\(String(format: "%012d", $0))" }
        let admitted = origins.map { limits.admit($0, route: "/v1/pair/start", now: start) }
        #expect(admitted == Array(repeating: true, count: 3) + Array(repeating: false, count: 17))
        #expect(limits.admit(origins[5], route: "/v1/status", now: start), "other routes are not held back")
        #expect(!limits.admit("chrome-extension://x", route: "/v1/pair/start", now: start.addingTimeInterval(5)))
        #expect(limits.admit("chrome-extension://x", route: "/v1/pair/start", now: start.addingTimeInterval(21)))
    }

    @Test("connection caps: per peer, then in total; a closed connection frees its place")
    func connectionCaps() {
        var caps = ConnectionCaps(total: 5, perPeer: 3)
        let first = [
            caps.admit(peer: 1000), caps.admit(peer: 1000), caps.admit(peer: 1000),
            caps.admit(peer: 1000),  // its fourth
            caps.admit(peer: 1001), caps.admit(peer: 1002),
            caps.admit(peer: 1003),  // the sixth in all
        ]
        #expect(first == [.admitted, .admitted, .admitted, .peerFull, .admitted, .admitted, .totalFull])
        #expect(caps.isFull && caps.open == 5)
        caps.release(peer: 1000)
        #expect(!caps.isFull && caps.count(of: 1000) == 2)
        let again = caps.admit(peer: 1000)
        #expect(again == .admitted)
        caps.release(peer: 4242)
        #expect(caps.open == 5, "releasing an unknown peer changes nothing")
        for peer: UInt32 in [1000, 1000, 1000, 1001, 1002] { caps.release(peer: peer) }
        #expect(caps.open == 0 && caps.count(of: 1000) == 0)
    }
}
