import ArgumentParser
import SmartCardCore
import VirtualCard

/// `--timing none|real` of `init`, `run` and `stack`: whether the card answers at once or in a real card's time
/// (`CardTiming`). On `run` and `stack` it overrides, for this run, what the card's state.json says.
enum TimingOption {
    static let help = ArgumentHelp(
        "none or real: answer at once, or in the time a real card takes (ATR transfer rate + on-card time). "
            + "Default: the card's own setting (cps-vcard init --timing), else none.",
        valueName: "none|real")

    /// The mode named by `text`, nil when not given; a ValidationError for any other word.
    static func parse(_ text: String?) throws -> CardTimingMode? {
        guard let text else { return nil }
        guard let mode = CardTimingMode(rawValue: text) else { throw ValidationError("--timing must be none or real") }
        return mode
    }

    /// `card`, made to take a real card's time when `override` (or, without one, its saved state) says so.
    static func apply(_ override: CardTimingMode?, to card: any CardSimulator) -> any CardSimulator {
        guard let simulated = card as? CPS3Card else { return card }
        return TimedCard.serving(simulated, override: override)
    }
}
