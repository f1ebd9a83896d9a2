import SmartCardCore

/// PIN and PUK: GET DATA DOCP, VERIFY, VERIFY-status, CHANGE REFERENCE DATA, RESET RETRY COUNTER
/// (reference `cps3-card.md` §5, §7, §16 point 5).
///
/// Format errors never cost a try: a data field of the wrong length → 6700, bytes that are not ASCII
/// digits → 6A80. A blocked credential answers 6983 without comparing anything. PIN values stay in
/// byte arrays and are never logged.
extension CardMachine {
    enum CredentialReference: UInt8 {
        case pin = 0x01
        case puk = 0x02
    }

    /// Length of a PIN (4) or PUK (8) as sent: bare ASCII digits, no padding (§4.4 [I]).
    static func enteredLength(_ reference: CredentialReference) -> Int { reference == .pin ? 4 : 8 }

    func credential(_ reference: CredentialReference) -> Credential {
        reference == .pin ? persistent.pin : persistent.puk
    }

    mutating func setCredential(_ reference: CredentialReference, _ value: Credential) {
        if reference == .pin { persistent.pin = value } else { persistent.puk = value }
    }

    mutating func setVerified(_ reference: CredentialReference, _ verified: Bool) {
        if reference == .pin { volatile.pinVerified = verified } else { volatile.pukVerified = verified }
    }

    func isVerified(_ reference: CredentialReference) -> Bool {
        reference == .pin ? volatile.pinVerified : volatile.pukVerified
    }

    static func isDigits(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { (0x30...0x39).contains($0) } }

    /// VERIFY `00 20 00 ref [Lc PIN]`. Without data it reports the state: 9000 verified, 63Cx tries left,
    /// 6983 blocked.
    mutating func verify(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00 else { return .status(.incorrectP1P2) }
        guard let reference = CredentialReference(rawValue: command.p2) else { return .status(.referencedDataNotFound) }
        let current = credential(reference)
        if command.data.isEmpty {
            if current.isBlocked { return .status(.authenticationMethodBlocked) }
            return isVerified(reference) ? .ok : .status(.verificationFailed(triesLeft: current.triesLeft))
        }
        guard command.data.count == Self.enteredLength(reference) else { return .status(.wrongLength) }
        guard Self.isDigits(command.data) else { return .status(.incorrectData) }
        return checkCredential(reference, command.data)
    }

    /// Compares `entered` with the stored value: a mismatch burns one try (persisted before the answer
    /// by `CPS3Card`), a match restores the counter and sets the verified flag.
    mutating func checkCredential(_ reference: CredentialReference, _ entered: [UInt8]) -> Reply {
        var current = credential(reference)
        guard !current.isBlocked else { return .status(.authenticationMethodBlocked) }
        guard Self.constantTimeEqual(entered, current.value) else {
            current.triesLeft -= 1
            setCredential(reference, current)
            setVerified(reference, false)
            return current.isBlocked
                ? .status(.authenticationMethodBlocked) : .status(.verificationFailed(triesLeft: current.triesLeft))
        }
        current.triesLeft = current.maxTries
        setCredential(reference, current)
        setVerified(reference, true)
        return .ok
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// CHANGE REFERENCE DATA `00 24 00 ref Lc old‖new` (§7). The old value is checked like VERIFY and
    /// costs a try when wrong; on success the new value is stored and the credential counts as verified.
    mutating func changeReferenceData(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00 else { return .status(.incorrectP1P2) }
        guard let reference = CredentialReference(rawValue: command.p2) else { return .status(.referencedDataNotFound) }
        let length = Self.enteredLength(reference)
        guard command.data.count == 2 * length else { return .status(.wrongLength) }
        guard Self.isDigits(command.data) else { return .status(.incorrectData) }
        let reply = checkCredential(reference, Array(command.data.prefix(length)))
        guard reply.statusWord.isSuccess else { return reply }
        var current = credential(reference)
        current.value = Array(command.data.suffix(length))
        setCredential(reference, current)
        return .ok
    }

    /// RESET RETRY COUNTER `00 2C 02 01 Lc newPIN` (§7): P1=02 = new reference data only, after the PUK
    /// was verified in this session. Each unblock uses one of `unblocksLeft` (DOCP 9D); at 0 → 6983.
    mutating func resetRetryCounter(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x02, command.p2 == CPS3.pinReference else { return .status(.incorrectP1P2) }
        guard volatile.pukVerified else { return .status(.securityStatusNotSatisfied) }
        guard persistent.unblocksLeft > 0 else { return .status(.authenticationMethodBlocked) }
        guard command.data.count == Self.enteredLength(.pin) else { return .status(.wrongLength) }
        guard Self.isDigits(command.data) else { return .status(.incorrectData) }
        persistent.pin.value = command.data
        persistent.pin.triesLeft = persistent.pin.maxTries
        persistent.unblocksLeft -= 1
        return .ok
    }

    /// GET DATA of a CHV SDO: `00 CB 3F FF 0A 4D 08 70 06 BF 81 ref 02 A0 80` (§5, §7). The MF must be
    /// the current DF (else 6A88). Other SDOs (SE, RSA keys) are not emulated: 6A88.
    mutating func getData(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x3F, command.p2 == 0xFF else { return .status(.incorrectP1P2) }
        let prefix: [UInt8] = [0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81]
        let suffix: [UInt8] = [0x02, 0xA0, 0x80]
        let data = command.data
        guard data.count == 10, Array(data.prefix(6)) == prefix, Array(data.suffix(3)) == suffix,
            let reference = CredentialReference(rawValue: data[6])
        else { return .status(.referencedDataNotFound) }
        guard volatile.currentDF == CPS3.masterFile else { return .status(.referencedDataNotFound) }
        return Reply(data: documentOfCredential(reference))
    }

    /// `70 .. BF 81 ref .. A0 .. 9A max 9B left [9C 9D usage] A1 08 8C 06 F3 00 00 13 FF 00`, as in the
    /// real answer of §7; the PUK adds its unblock counters.
    private func documentOfCredential(_ reference: CredentialReference) -> [UInt8] {
        let current = credential(reference)
        var body = TLV.encode(0x9A, [UInt8(clamping: current.maxTries)])
            + TLV.encode(0x9B, [UInt8(clamping: current.triesLeft)])
        if reference == .puk {
            body += TLV.encode(0x9C, [UInt8(clamping: persistent.unblocksMax)])
            // Two bytes, as the real PUK answers `9D 02 00 64` (100 unblocks left, cps4-card.md §11.2).
            let left = UInt16(clamping: persistent.unblocksLeft)
            body += TLV.encode(0x9D, [UInt8(left >> 8), UInt8(left & 0xFF)])
        }
        body += TLV.encode(0xA1, TLV.encode(0x8C, [0xF3, 0x00, 0x00, 0x13, 0xFF, 0x00]))
        return TLV.encode(0x70, TLV.encode([0xBF, 0x81, reference.rawValue], TLV.encode(0xA0, body)))
    }
}
