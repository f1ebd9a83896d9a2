package import Foundation

/// A token bucket per key: `burst` requests at once, then `perSecond`. Pure; the clock is passed in.
///
/// The table is bounded: keys are caller-chosen (any `moz-extension://` uuid is an origin), so past
/// `capacity` keys the buckets that refilled are dropped (a full bucket is the same as none), then
/// the least recently used ones.
package struct RateLimiter: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Date
    }

    package static let defaultCapacity = 256

    package let burst: Double
    package let perSecond: Double
    package let capacity: Int
    private var buckets: [String: Bucket] = [:]

    package init(burst: Int, perSecond: Double, capacity: Int = RateLimiter.defaultCapacity) {
        self.burst = Double(burst)
        self.perSecond = perSecond
        self.capacity = max(1, capacity)
    }

    /// How many keys the table holds now.
    package var count: Int { buckets.count }

    /// Takes one token for `key`, or refuses.
    package mutating func admit(_ key: String, now: Date) -> Bool {
        if buckets[key] == nil, buckets.count >= capacity { makeRoom(now: now) }
        var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
        bucket.tokens = refilled(bucket, now: now)
        bucket.updated = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[key] = bucket
        return admitted
    }

    private func refilled(_ bucket: Bucket, now: Date) -> Double {
        min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * perSecond)
    }

    /// Frees at least one slot: the refilled buckets first, else the least recently used.
    private mutating func makeRoom(now: Date) {
        buckets = buckets.filter { refilled($0.value, now: now) < burst }
        guard buckets.count >= capacity else { return }
        let excess = buckets.count - capacity + 1
        for (key, _) in buckets.sorted(by: { $0.value.updated < $1.value.updated }).prefix(excess) {
            buckets[key] = nil
        }
    }
}
