package import Foundation
import Synchronization

/// The (origin, nonce) pairs the bridge already signed, for the nonce lifetime: a second request for
/// the same pair is refused before any dialog. The relying party stays the authority on replays (it
/// consumes its nonce); this stops a page or a stolen extension token from getting two signatures
/// over one challenge. Pure; bounded.
package struct RecentChallenges: Sendable {
    package static let lifetime: TimeInterval = 300
    package static let capacity = 1024
    private var seen: [String: Date] = [:]

    package init() {}

    package func contains(origin: String, nonce: String, now: Date) -> Bool {
        guard let expiry = seen[Self.key(origin, nonce)] else { return false }
        return expiry > now
    }

    package mutating func record(origin: String, nonce: String, now: Date) {
        if seen.count >= Self.capacity { seen = seen.filter { $0.value > now } }
        if seen.count >= Self.capacity, let oldest = seen.min(by: { $0.value < $1.value }) { seen[oldest.key] = nil }
        seen[Self.key(origin, nonce)] = now.addingTimeInterval(Self.lifetime)
    }

    private static func key(_ origin: String, _ nonce: String) -> String { origin + "\u{0}" + nonce }
}

/// `RecentChallenges` shared by the bridge's threads.
final class ChallengeMemory: Sendable {
    private let recent = Mutex(RecentChallenges())

    func contains(origin: String, nonce: String) -> Bool {
        recent.withLock { $0.contains(origin: origin, nonce: nonce, now: Date()) }
    }

    func record(origin: String, nonce: String) {
        recent.withLock { $0.record(origin: origin, nonce: nonce, now: Date()) }
    }
}
