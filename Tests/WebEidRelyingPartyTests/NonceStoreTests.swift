import Foundation
import Testing
import WebEid
import WebEidRelyingParty

@Suite("Challenge nonce store: bound to a session, single use, five minutes")
struct NonceStoreTests {
    @Test("the nonce issued to a session is given back once, then never again")
    func singleUse() throws {
        let store = ChallengeNonceStore()
        let nonce = store.issue(session: "s1")
        try ChallengeNonce.validate(nonce)
        #expect(try store.consume(session: "s1") == nonce)
        #expect(throws: RelyingPartyError(.nonceNotFound, "")) { try store.consume(session: "s1") }
        #expect(store.count == 0)
    }

    @Test("another session cannot take a session's nonce, and a never-issued session has none")
    func sessionBound() throws {
        let store = ChallengeNonceStore()
        let nonce = store.issue(session: "alice")
        #expect(throws: RelyingPartyError(.nonceNotFound, "")) { try store.consume(session: "mallory") }
        #expect(try store.consume(session: "alice") == nonce)
    }

    @Test("a new challenge for the same session replaces the previous one")
    func replaced() throws {
        let store = ChallengeNonceStore()
        let first = store.issue(session: "s")
        let second = store.issue(session: "s")
        #expect(first != second)
        #expect(try store.consume(session: "s") == second)
    }

    @Test("usable until the lifetime ends, refused (and gone) after it")
    func expiry() throws {
        let clock = ManualClock()
        let store = ChallengeNonceStore(now: { clock.now })
        _ = store.issue(session: "on-time")
        _ = store.issue(session: "late")
        clock.advance(ChallengeNonceStore.defaultLifetime - 1)
        _ = try store.consume(session: "on-time")
        clock.advance(2)
        #expect(throws: RelyingPartyError(.nonceExpired, "")) { try store.consume(session: "late") }
        #expect(throws: RelyingPartyError(.nonceNotFound, "")) { try store.consume(session: "late") }
    }

    @Test("expired entries are purged and the table never exceeds its capacity (oldest dropped first)")
    func bounded() throws {
        let clock = ManualClock()
        let store = ChallengeNonceStore(lifetime: 60, capacity: 3, now: { clock.now })
        for index in 0..<3 {
            _ = store.issue(session: "s\(index)")
            clock.advance(1)
        }
        _ = store.issue(session: "s3")
        #expect(store.count == 3)
        #expect(throws: RelyingPartyError(.nonceNotFound, "")) { try store.consume(session: "s0") }
        clock.advance(120)
        _ = store.issue(session: "fresh")
        #expect(store.count == 1)
    }

    @Test("under concurrent use every nonce is handed out exactly once")
    func concurrent() {
        let store = ChallengeNonceStore()
        let sessions = (0..<200).map { "session-\($0)" }
        let issued = sessions.map { store.issue(session: $0) }
        let taken = Taken()
        // Four takers race for every session.
        DispatchQueue.concurrentPerform(iterations: sessions.count * 4) { index in
            if let nonce = try? store.consume(session: sessions[index % sessions.count]) {
                taken.append(nonce)
            }
        }
        #expect(taken.values.count == sessions.count)
        #expect(Set(taken.values) == Set(issued))
    }
}

/// Nonces collected from several threads.
private final class Taken: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ nonce: String) { lock.withLock { list.append(nonce) } }
    var values: [String] { lock.withLock { list } }
}
