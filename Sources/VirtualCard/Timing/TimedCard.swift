import Foundation
package import SmartCardCore

/// `--timing`: whether a virtual card answers at once (`none`, for tests and the fault campaign) or takes
/// the time a real card takes (`real`, see `CardTiming`). Stored in `state.json` by `cps-vcard init --timing`.
package enum CardTimingMode: String, Codable, Sendable, CaseIterable {
    case none
    case real
}

/// A card that answers as its inner card does, but only once the modelled time of the exchange has passed.
///
/// The wait happens on the caller's thread, after the inner card answered and outside its lock: for
/// `cps-vcard run/stack` that is the vpcd link's own thread, so only this card's reply is late, as with a real
/// card in its reader; other readers and cards are untouched. The simulator's own compute time counts toward
/// the modelled time (only the rest is slept), so a slow debug build does not add its RSA time on top.
package final class TimedCard: CardSimulator, Sendable {
    package let inner: any CardSimulator
    package let timing: CardTiming
    private let sleep: @Sendable (Duration) -> Void

    package init(
        _ inner: any CardSimulator, timing: CardTiming,
        sleep: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.secondsValue) }
    ) {
        self.inner = inner
        self.timing = timing
        self.sleep = sleep
    }

    package var atr: [UInt8] { inner.atr }
    package func powerOn() { inner.powerOn() }
    package func powerOff() { inner.powerOff() }
    /// A warm reset takes its time too (RST, the ATR at the initial rate, PPS, the card OS restart): the cost of
    /// leaving no verified card behind, which cpsd pays after every operation that verified a code.
    package func reset() {
        inner.reset()
        sleep(timing.resetTime(atrLength: inner.atr.count))
    }

    /// `card` as `cps-vcard run/stack` serve it: timed when `override` (the command's `--timing`) or, without
    /// one, the card's saved state says `real`; unchanged otherwise.
    package static func serving(_ card: CPS3Card, override: CardTimingMode?) -> any CardSimulator {
        let state = card.state
        guard (override ?? state.timing ?? .none) == .real else { return card }
        return TimedCard(card, timing: CardTiming(atr: card.atr, generation: state.cardGeneration))
    }

    package func process(_ command: [UInt8]) -> [UInt8] {
        let clock = ContinuousClock()
        let start = clock.now
        let response = inner.process(command)
        let remaining = timing.duration(command: command, response: response) - (clock.now - start)
        if remaining > .zero { sleep(remaining) }
        return response
    }
}

extension Duration {
    /// Whole and fractional seconds, for Foundation's sleep.
    package var secondsValue: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
