import Foundation
import SmartCardCore
import Synchronization

/// A virtual CPS3 contact card (IAS-ECC, T=0), written from the card's behaviour in reference
/// `cps3-card.md` (§2-§8, checklist §16) and never from driver code (DESIGN.md decision 7) — or, when its
/// state says `generation: cps4`, a virtual CPS4 (NXP ChipDoc, `cps4-card.md` §12; `CPS4*.swift`). The
/// type keeps its CPS3 name so that existing callers compile unchanged.
///
/// Thread safety: every call takes one lock (`machine`'s). `onStateChange` runs synchronously, while the
/// lock is held, after a command changed the persistent state (try counters, PIN value, unblock counter) and before its
/// response is returned: a process killed after the answer never loses a burned try. The callback must
/// not call back into the card.
package final class CPS3Card: CardSimulator, Sendable {
    private let machine: Mutex<CardMachine>
    private let onStateChange: @Sendable (CardState) -> Void
    /// Fault hooks for `make fuzz`; nil unless `CPS_VCARD_FAULTS` is set (or a test gives one). Used only under
    /// `machine`'s lock.
    private let faults: CardFaultInjector?

    package init(
        state: CardState, faults: CardFaultInjector? = CardFaultInjector.fromEnvironment(),
        onStateChange: @escaping @Sendable (CardState) -> Void = { _ in }
    ) {
        self.machine = Mutex(CardMachine(state: state))
        self.faults = faults
        self.atr = state.answerToReset
        self.onStateChange = onStateChange
    }

    /// The CPS3 contact ATR (§2, T=0 only), or the CPS4 ATR the state names (cps4-card.md §2).
    package let atr: [UInt8]

    package var generation: CardGeneration { machine.withLock { $0.persistent.cardGeneration } }

    /// A snapshot of the persistent state.
    package var state: CardState {
        machine.withLock { $0.persistent }
    }

    package func powerOn() { machine.withLock { $0.resetVolatileState() } }
    package func powerOff() { machine.withLock { $0.resetVolatileState() } }
    package func reset() { machine.withLock { $0.resetVolatileState() } }

    package func process(_ command: [UInt8]) -> [UInt8] {
        machine.withLock { machine in
            let before = machine.persistent
            // The CPS4 lost-context fault acts before the card: the command is refused and its channel forgets.
            if let channel = faults?.losesChipDocContext(command, generation: machine.persistent.cardGeneration) {
                machine.loseChipDocContext(channel: channel)
                return faults?.answer(command, genuine: Reply.status(.conditionsOfUseNotSatisfied).wireBytes) ?? []
            }
            let response = machine.process(command)
            if machine.persistent != before { onStateChange(machine.persistent) }
            return faults?.answer(command, genuine: response) ?? response
        }
    }
}
