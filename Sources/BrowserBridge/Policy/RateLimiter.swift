package import Foundation

/// A token bucket per caller: `burst` requests at once, then `perSecond`. Pure; the clock is passed in.
package struct RateLimiter: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Date
    }

    package let burst: Double
    package let perSecond: Double
    private var buckets: [String: Bucket] = [:]

    package init(burst: Int, perSecond: Double) {
        self.burst = Double(burst)
        self.perSecond = perSecond
    }

    /// Takes one token for `key`, or refuses.
    package mutating func admit(_ key: String, now: Date) -> Bool {
        var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
        bucket.tokens = min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * perSecond)
        bucket.updated = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[key] = bucket
        if buckets.count > 256 { buckets = buckets.filter { $0.value.tokens < burst } }  // bounded memory
        return admitted
    }
}
