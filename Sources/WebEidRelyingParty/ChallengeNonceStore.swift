package import Foundation
import Synchronization
import WebEid

/// Challenge nonces bound to browser sessions (browser-and-psc.md §2.5): one live nonce per session, taken
/// out exactly once (get-and-remove), refused after its lifetime. Binding to the session means a token is
/// accepted only from the browser session that asked for the challenge, which stops forged-login CSRF; the
/// single use stops replays. Thread-safe: one lock around the table.
package final class ChallengeNonceStore: Sendable {
    /// Web eID's default lifetime: five minutes.
    package static let defaultLifetime: TimeInterval = 300

    private struct Entry {
        var nonce: String
        var expires: Date
    }

    private let lifetime: TimeInterval
    private let capacity: Int
    private let now: @Sendable () -> Date
    private let entries = Mutex<[String: Entry]>([:])

    /// - Parameters:
    ///   - lifetime: how long an issued nonce stays usable, measured with `now` at issue time.
    ///   - capacity: live sessions kept at most; past it the oldest nonces are dropped (a flood of
    ///     challenge requests costs memory, never an unbounded amount).
    ///   - now: the server clock (tests move it).
    package init(
        lifetime: TimeInterval = defaultLifetime, capacity: Int = 10_000, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.now = now
    }

    /// A fresh nonce for `session`, replacing any earlier one of that session.
    package func issue(session: String) -> String {
        let nonce = ChallengeNonce.generate()
        let issued = now()
        entries.withLock { entries in
            entries = entries.filter { $0.value.expires >= issued }
            if entries.count >= capacity {
                let oldest = entries.sorted { $0.value.expires < $1.value.expires }.prefix(entries.count - capacity + 1)
                for (key, _) in oldest { entries[key] = nil }
            }
            entries[session] = Entry(nonce: nonce, expires: issued.addingTimeInterval(lifetime))
        }
        return nonce
    }

    /// Takes the session's nonce out of the store. A second call for the same nonce fails: it is gone.
    package func consume(session: String) throws(RelyingPartyError) -> String {
        let entry = entries.withLock { $0.removeValue(forKey: session) }
        guard let entry else {
            throw RelyingPartyError(.nonceNotFound, "no challenge nonce for this session (never issued, or already used)")
        }
        guard now() <= entry.expires else {
            throw RelyingPartyError(.nonceExpired, "the challenge nonce expired at \(entry.expires)")
        }
        return entry.nonce
    }

    /// Live entries (tests).
    package var count: Int { entries.withLock { $0.count } }
}
