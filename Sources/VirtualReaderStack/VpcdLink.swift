import Foundation
package import SmartCardCore

/// Plugs one simulated card into one vpcd reader port, as the TCP client of vpcd's default mode
/// (reference `virtual-reader-stack.md` §2). The link runs its own thread with blocking socket I/O:
/// nothing runs on the Swift concurrency pool, and an idle link sleeps in `recv` or on a condition.
///
/// The card is "inserted" while the link holds a connection that answers GET ATR, and "removed" when
/// the connection closes. If vpcd closes it (pcscd stopped), the link reconnects for as long as the
/// card is meant to be inserted, so a pcscd restart is survived.
package final class VpcdLink: Sendable {
    package let card: any CardSimulator
    package let host: String
    package let port: UInt16
    private let core: LinkCore

    /// Creates a link with the card removed. Call `insert()` to plug it in.
    package init(card: any CardSimulator, host: String = "127.0.0.1", port: UInt16) {
        self.card = card
        self.host = host
        self.port = port
        self.core = LinkCore(card: card, host: host, port: port)
        let core = self.core
        let thread = Thread { core.run() }
        thread.name = "vpcd-link-\(port)"
        thread.start()
    }

    deinit { core.stop() }

    /// Plugs the card in: the link connects (retrying until vpcd listens) and pcscd sees the card at
    /// its next presence poll (≤ 400 ms).
    package func insert() { core.setInserted(true) }

    /// Pulls the card out: the connection is shut down at once, even in the middle of an APDU exchange.
    package func remove() { core.setInserted(false) }

    /// Whether the card is meant to be in the reader.
    package var isInserted: Bool { core.snapshot().inserted }

    /// Whether vpcd has powered the card on the current connection.
    package var isPowered: Bool { core.snapshot().powered }

    /// Waits until vpcd sends POWER ON on the current connection. pcscd powers a card as soon as it
    /// sees it, so this is a readiness signal that sends nothing to the card.
    package func waitUntilPowered(timeout: Duration) -> Bool {
        core.waitUntilPowered(timeout: timeout)
    }

    /// Removes the card and ends the link's thread. Idempotent.
    package func stop() { core.stop() }
}

/// The state and thread body of a `VpcdLink`, kept apart so the thread does not retain the link
/// (the link's `deinit` stops the thread).
private final class LinkCore: @unchecked Sendable {
    struct Snapshot {
        var inserted: Bool
        var powered: Bool
    }

    private let card: any CardSimulator
    private let host: String
    private let port: UInt16
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var inserted = false
    private var stopped = false
    private var powered = false
    private var descriptor: Int32 = -1

    init(card: any CardSimulator, host: String, port: UInt16) {
        self.card = card
        self.host = host
        self.port = port
    }

    func snapshot() -> Snapshot {
        condition.lock()
        defer { condition.unlock() }
        return Snapshot(inserted: inserted, powered: powered)
    }

    func setInserted(_ value: Bool) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, inserted != value else { return }
        inserted = value
        powered = false
        if !value && descriptor >= 0 { VpcdSocket.shutdown(descriptor: descriptor) }
        condition.broadcast()
    }

    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        inserted = false
        powered = false
        if descriptor >= 0 { VpcdSocket.shutdown(descriptor: descriptor) }
        condition.broadcast()
    }

    func waitUntilPowered(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !powered {
            if stopped || !condition.wait(until: deadline) { return powered }
        }
        return true
    }

    /// The thread body: wait to be inserted, connect, serve vpcd until EOF, repeat.
    func run() {
        while waitForInsertion() {
            guard let socket = connectWhileInserted() else { continue }
            guard adopt(socket.descriptor) else { continue }
            serve(socket)
            condition.lock()
            descriptor = -1
            powered = false
            condition.unlock()
        }
    }

    /// Blocks until the card is meant to be inserted; false once the link is stopped.
    private func waitForInsertion() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !inserted && !stopped { condition.wait() }
        return !stopped
    }

    /// The only polling loop: vpcd may not listen yet (pcscd starting or restarting).
    private func connectWhileInserted() -> VpcdSocket? {
        while true {
            condition.lock()
            let wanted = inserted && !stopped
            condition.unlock()
            guard wanted else { return nil }
            if let socket = VpcdSocket.connect(host: host, port: port) { return socket }
            usleep(50_000)
        }
    }

    /// Publishes the new connection so `remove()` can shut it down; false if the card was pulled meanwhile.
    private func adopt(_ fd: Int32) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard inserted && !stopped else { return false }
        descriptor = fd
        powered = false
        return true
    }

    /// Answers vpcd until the connection ends (§2.2: the card never speaks first).
    private func serve(_ socket: borrowing VpcdSocket) {
        while let message = socket.receiveFrame() {
            if message.count == 1 {
                guard handleControl(message[0], socket) else { return }
            } else if message.count > 1 {
                var response = card.process(message)
                if response.count > VpcdSocket.maximumFrameLength { response = [0x6F, 0x00] }
                guard socket.sendFrame(response) else { return }
            }
        }
    }

    private func handleControl(_ code: UInt8, _ socket: borrowing VpcdSocket) -> Bool {
        switch code {
        case VpcdControl.powerOff:
            card.powerOff()
        case VpcdControl.powerOn:
            card.powerOn()
            condition.lock()
            powered = true
            condition.broadcast()
            condition.unlock()
        case VpcdControl.reset:
            card.reset()
        case VpcdControl.getATR:
            return socket.sendFrame(card.atr)
        default:
            break  // Unknown control bytes get no reply, like the other control messages.
        }
        return true
    }
}

/// The 1-byte control messages vpcd sends (reference §2.2).
enum VpcdControl {
    static let powerOff: UInt8 = 0x00
    static let powerOn: UInt8 = 0x01
    static let reset: UInt8 = 0x02
    static let getATR: UInt8 = 0x04
}

extension Duration {
    /// Whole and fractional seconds, for Foundation deadlines.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
