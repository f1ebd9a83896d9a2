import SmartCardCore

/// PIN and PUK of the ChipDoc applet, as Cryptolib's CPS4 driver uses them (cps4-card.md §6.2, §6.3):
/// - VERIFY `01 20 00 ref Lc code`; without data (case 1, or P3=00 under T=0) it only reports: `63Cx`
///   tries left, `6983` blocked, `9000` already verified in this session; it never spends a try.
/// - CHANGE REFERENCE DATA `01 24 01 ref Lc new` (P1=01: the new value only), allowed once the PIN is
///   verified in this session, or right after RESET RETRY COUNTER.
/// - RESET RETRY COUNTER `01 2C 03 ref` (P1=03: no data), once the PUK is verified: the PIN's counter is
///   full again and one of the card's unblocks is used; the new PIN follows by CHANGE (P1=01).
/// The counters are the persistent ones of `CardState`, shared with the CPS3 personality's code.
extension CardMachine {
    private static func cps4Credential(_ reference: UInt8) -> CredentialReference? {
        switch reference {
        case CPS4.pinReference: .pin
        case CPS4.pukReference: .puk
        default: nil
        }
    }

    mutating func verifyCPS4(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00 else { return .status(.incorrectP1P2) }
        guard let reference = Self.cps4Credential(command.p2) else { return .status(.referencedDataNotFound) }
        let current = credential(reference)
        if command.data.isEmpty {
            if current.isBlocked { return .status(.authenticationMethodBlocked) }
            return isVerified(reference) ? .ok : .status(.verificationFailed(triesLeft: current.triesLeft))
        }
        guard command.data.count == Self.enteredLength(reference) else { return .status(.wrongLength) }
        guard Self.isDigits(command.data) else { return .status(.incorrectData) }
        if reference == .pin { volatile.pinResetPending = false }
        return checkCredential(reference, command.data)
    }

    mutating func changeReferenceDataCPS4(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x01 else { return .status(.incorrectP1P2) }
        guard Self.cps4Credential(command.p2) == .pin else { return .status(.referencedDataNotFound) }
        guard volatile.pinVerified || volatile.pinResetPending else { return .status(.securityStatusNotSatisfied) }
        guard command.data.count == Self.enteredLength(.pin) else { return .status(.wrongLength) }
        guard Self.isDigits(command.data) else { return .status(.incorrectData) }
        persistent.pin.value = command.data
        persistent.pin.triesLeft = persistent.pin.maxTries
        volatile.pinResetPending = false
        volatile.pinVerified = true
        return .ok
    }

    mutating func resetRetryCounterCPS4(_ command: CommandAPDU) -> Reply {
        // Cryptolib sends the reference with bit 8 set (`ref|80`); ours already has it (CPS4Constants).
        guard command.p1 == 0x03, command.p2 | 0x80 == CPS4.pinReference else { return .status(.incorrectP1P2) }
        guard command.data.isEmpty else { return .status(.wrongLength) }
        guard volatile.pukVerified else { return .status(.securityStatusNotSatisfied) }
        guard persistent.unblocksLeft > 0 else { return .status(.authenticationMethodBlocked) }
        persistent.pin.triesLeft = persistent.pin.maxTries
        persistent.unblocksLeft -= 1
        volatile.pinVerified = false
        volatile.pinResetPending = true
        return .ok
    }
}
