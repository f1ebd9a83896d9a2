import Foundation
import SmartCardCore

/// A connection to the card of one `VirtualBackend` reader, bound to one insertion of that card.
final class VirtualConnection: CardConnection, @unchecked Sendable {
    private let backend: VirtualBackend
    let readerName: String
    private var card: any CardSimulator
    private var insertion: Int
    /// The reader's reset count this connection has seen (see `VirtualBackend.Slot.resets`).
    private var resetsSeen: Int?
    private(set) var atr: ATR
    private var closed = false

    init(backend: VirtualBackend, readerName: String, card: any CardSimulator, insertion: Int, atr: ATR) {
        self.backend = backend
        self.readerName = readerName
        self.card = card
        self.insertion = insertion
        self.atr = atr
    }

    /// Checks, with the backend lock held, that the reader still holds the card this connection was
    /// made to. Returns the reader's slot.
    private func checkPresent() throws(CardError) -> VirtualBackend.Slot {
        guard !closed else { throw CardError(.internalError, "connection to \(readerName) was disconnected") }
        guard let slot = backend.slots[readerName] else {
            throw CardError(.unknownReader, "reader \(readerName) was unplugged")
        }
        guard slot.card != nil, slot.insertion == insertion else {
            throw CardError(.cardRemoved, "the card in \(readerName) was removed")
        }
        if resetsSeen == nil { resetsSeen = slot.resets }
        guard slot.resets == resetsSeen else {
            throw CardError(.cardReset, "the card in \(readerName) was reset by another connection")
        }
        return slot
    }

    private var identity: ObjectIdentifier { ObjectIdentifier(self) }

    func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8] {
        backend.condition.lock()
        let target: any CardSimulator
        do throws(CardError) {
            let slot = try checkPresent()
            // As pcscd: while another handle holds a transaction, a command outside it is refused.
            if let owner = slot.transactionOwner, owner != identity {
                throw CardError(.sharingViolation, "the card in \(readerName) is in another connection's transaction")
            }
            target = card
        } catch {
            backend.condition.unlock()
            throw error
        }
        backend.condition.unlock()
        // The card serializes itself; the backend lock is not held during slow RSA operations.
        return target.process(command)
    }

    var hasPINPad: Bool {
        backend.condition.lock()
        defer { backend.condition.unlock() }
        return backend.slots[readerName]?.pinPad != nil
    }

    /// The simulated reader as a CCID PIN pad behaves: it asks for the keys, refuses a length outside the
    /// bounds itself (6403), answers 6401 when the person cancels, else sends the VERIFY with the digits.
    func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8] {
        backend.condition.lock()
        let pad = backend.slots[readerName]?.pinPad
        backend.condition.unlock()
        guard let pad else { throw CardError(.internalError, "\(readerName) has no PIN pad") }
        guard var digits = pad(verify) else { return [0x64, 0x01] }
        defer { SecretBytes.wipe(&digits) }
        guard (verify.minDigits...verify.maxDigits).contains(digits.count) else { return [0x64, 0x03] }
        var command = verify.header + [UInt8(digits.count)] + digits
        defer { SecretBytes.wipe(&command) }
        return try transmit(command)
    }

    func beginTransaction() throws(CardError) {
        backend.condition.lock()
        defer { backend.condition.unlock() }
        while true {
            let slot = try checkPresent()
            if slot.transactionOwner == nil || slot.transactionOwner == identity {
                slot.transactionOwner = identity
                return
            }
            backend.condition.wait()
        }
    }

    func endTransaction(_ disposition: CardDisposition) throws(CardError) {
        backend.condition.lock()
        defer { backend.condition.unlock() }
        let slot = try checkPresent()
        if slot.transactionOwner == identity { slot.transactionOwner = nil }
        apply(disposition, to: slot)
        backend.condition.broadcast()
    }

    func reconnect(_ initialization: CardDisposition) throws(CardError) {
        backend.condition.lock()
        defer { backend.condition.unlock() }
        guard !closed else { throw CardError(.internalError, "connection to \(readerName) was disconnected") }
        guard let slot = backend.slots[readerName] else {
            throw CardError(.unknownReader, "reader \(readerName) was unplugged")
        }
        guard let current = slot.card else { throw CardError(.noCard, "no card in \(readerName)") }
        card = current
        insertion = slot.insertion
        atr = try VirtualBackend.parse(current.atr)
        if !slot.powered {
            current.powerOn()
            slot.powered = true
        }
        apply(initialization, to: slot)
        resetsSeen = slot.resets
    }

    func disconnect(_ disposition: CardDisposition) {
        backend.condition.lock()
        defer { backend.condition.unlock() }
        guard !closed else { return }
        closed = true
        guard let slot = backend.slots[readerName], slot.card != nil, slot.insertion == insertion else { return }
        if slot.transactionOwner == identity { slot.transactionOwner = nil }
        apply(disposition, to: slot)
        backend.condition.broadcast()
    }

    /// Must be called with the backend lock held, on the slot of this connection's card.
    private func apply(_ disposition: CardDisposition, to slot: VirtualBackend.Slot) {
        switch disposition {
        case .leave:
            break
        case .reset:
            card.reset()
            slot.resets += 1
        case .unpower:
            card.powerOff()
            slot.powered = false
            slot.resets += 1
        }
        resetsSeen = slot.resets
    }
}
