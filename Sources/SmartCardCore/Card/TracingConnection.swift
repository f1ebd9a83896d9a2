/// Wraps a connection and reports every exchange as a line of text, for `--trace` in the tools and
/// for support. PIN-carrying commands (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER) are shown
/// with their data replaced by `<redacted n bytes>`: a trace can be pasted in a ticket.
package final class TracingConnection: CardConnection, Sendable {
    private let base: any CardConnection
    private let sink: @Sendable (String) -> Void

    package init(_ base: any CardConnection, sink: @escaping @Sendable (String) -> Void) {
        self.base = base
        self.sink = sink
    }

    package var readerName: String { base.readerName }
    package var atr: ATR { base.atr }

    package func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] {
        sink("> " + Self.redacted(command))
        do {
            let response = try base.transmit(command)
            sink("< " + Hex.string(from: response))
            return response
        } catch {
            sink("! \(error)")
            throw error
        }
    }

    package func beginTransaction() throws(CardError) { try base.beginTransaction() }
    package func endTransaction(_ disposition: CardDisposition) throws(CardError) { try base.endTransaction(disposition) }
    package func reconnect(_ initialization: CardDisposition) throws(CardError) { try base.reconnect(initialization) }
    package func disconnect(_ disposition: CardDisposition) { base.disconnect(disposition) }
    package var hasPINPad: Bool { base.hasPINPad }
    package func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8] { try base.verifyOnPINPad(verify) }

    /// Instructions whose data field is a PIN or PUK (ISO/IEC 7816-4 §11.5).
    static let secretInstructions: Set<UInt8> = [0x20, 0x24, 0x2C]

    package static func redacted(_ command: [UInt8]) -> String {
        guard command.count > 5, secretInstructions.contains(command[1]) else { return Hex.string(from: command) }
        return Hex.string(from: command.prefix(5)) + " <redacted \(command.count - 5) bytes>"
    }
}
