import Synchronization
package import SmartCardCore

/// A card that keeps the header of every command it is sent, so a test counts what really reached the
/// card (VERIFYs, decryptions) instead of trusting the middleware's own account. It wraps a real
/// simulator. Only headers and data lengths are kept: a PIN sent to the card stays out of the log.
package final class CommandRecordingCard: CardSimulator, Sendable {
    package struct Command: Equatable, Sendable {
        package var cla: UInt8
        package var ins: UInt8
        package var p1: UInt8
        package var p2: UInt8
        /// True when the command carried data (a VERIFY without data only asks the tries left).
        package var hasData: Bool
    }

    private let inner: any CardSimulator
    private let commands = Mutex<[Command]>([])

    package init(_ inner: any CardSimulator) { self.inner = inner }

    /// Every command received so far, oldest first.
    package var sent: [Command] { commands.withLock { $0 } }

    package var atr: [UInt8] { inner.atr }
    package func powerOn() { inner.powerOn() }
    package func powerOff() { inner.powerOff() }
    package func reset() { inner.reset() }

    package func process(_ command: [UInt8]) -> [UInt8] {
        if command.count >= 4 {
            let header = Command(
                cla: command[0], ins: command[1], p1: command[2], p2: command[3], hasData: command.count > 5)
            commands.withLock { $0.append(header) }
        }
        return inner.process(command)
    }
}

extension CommandRecordingCard.Command {
    /// A VERIFY that compares a code (and may spend a try), on any logical channel.
    package var isVerifyWithData: Bool { ins == 0x20 && hasData }
    /// The last (or only) part of a PSO DECIPHER: one per decryption, whatever the chaining.
    package var isLastDecipherPart: Bool { ins == 0x2A && p1 == 0x80 && p2 == 0x86 && cla & 0x10 == 0 }
}
