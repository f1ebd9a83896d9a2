package import SmartCardCore

/// A real card whose answers a test can damage: each response passes through `fault`, which sees the
/// command and may return something else (a truncated TLV, a wrong status word, no status word...).
/// For testing that malformed card answers become typed errors, never crashes.
package final class FaultyCard: CardSimulator, Sendable {
    private let card: any CardSimulator
    private let fault: @Sendable (_ command: [UInt8], _ response: [UInt8]) -> [UInt8]

    package init(
        _ card: any CardSimulator, fault: @escaping @Sendable (_ command: [UInt8], _ response: [UInt8]) -> [UInt8]
    ) {
        self.card = card
        self.fault = fault
    }

    package var atr: [UInt8] { card.atr }
    package func powerOn() { card.powerOn() }
    package func powerOff() { card.powerOff() }
    package func reset() { card.reset() }
    package func process(_ command: [UInt8]) -> [UInt8] { fault(command, card.process(command)) }
}
