package import Foundation
import Synchronization

/// The rate limits: a general one per caller (Origin), and one for pairing starts shared by every
/// caller. Pairing is global because each start shows a dialog and each caller may claim any
/// `moz-extension://` uuid: per origin, an endless supply of fresh origins would open endless dialogs.
package final class LimitTable: Sendable {
    private struct Limiters {
        var general = RateLimiter(burst: 30, perSecond: 10)
        var pairing = RateLimiter(burst: 3, perSecond: 1.0 / 20)
    }

    static let pairingKey = "pair-start"
    private let limiters = Mutex(Limiters())

    package init() {}

    package func admit(_ caller: String, route: String, now: Date = Date()) -> Bool {
        limiters.withLock { limiters in
            guard limiters.general.admit(caller, now: now) else { return false }
            return route != "/v1/pair/start" || limiters.pairing.admit(Self.pairingKey, now: now)
        }
    }
}
