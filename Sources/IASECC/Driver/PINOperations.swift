package import SmartCardCore

/// PIN and PUK operations (cps3-card.md §7). None of them retries anything: a wrong PIN is reported
/// with the tries left, and the caller decides. Lengths and digits are checked before the card sees
/// a byte, so a typo in length never costs a try.
extension CPS3Driver {
    package static let pinLength = 4
    package static let pukLength = 8

    /// The PIN and PUK counters from GET DATA (DOCP): no VERIFY, no try spent.
    package static func readPINStatus(_ session: inout CardSession, selectingMasterFile: Bool = true) throws(IASECCError)
        -> PINStatus
    {
        if selectingMasterFile { try selectMasterFile(&session) }
        let pin = try decode(session.expectSuccess(.getPINInfo(reference: CPS3.pinReference), "GET DATA PIN"), DOCP.counters)
        let puk = try decode(session.expectSuccess(.getPINInfo(reference: CPS3.pukReference), "GET DATA PUK"), DOCP.counters)
        return PINStatus(pin: pin, puk: puk)
    }

    /// The PIN's tries left alone, no try spent: what a middleware compares with what it knows before it
    /// verifies a kept PIN again, to see whether someone else used the card. VERIFY without data (`00 20 00
    /// 01`, what OpenSC sends a real CPS3: cps4-card.md §10) answers `63Cx`, `6983` or `9000` in one short
    /// exchange from any DF, where SELECT MF + GET DATA + GET RESPONSE take three (about 70 ms at 9600 bit/s).
    /// `9000` means someone verified the PIN since the card's last reset: its counter is then full.
    package static func readPINCounters(_ session: inout CardSession) throws(IASECCError) -> CredentialCounters {
        let left = try verificationState(&session, reference: CPS3.pinReference) ?? CPS3.pinMaxTries
        return CredentialCounters(maxTries: CPS3.pinMaxTries, triesLeft: left)
    }

    /// SELECT MF: the GET DATA of the CHV SDOs needs it current; the application no longer is.
    static func selectMasterFile(_ session: inout CardSession) throws(IASECCError) {
        session.currentApplication = nil
        _ = try session.expectSuccess(.selectPath(CPS3.masterFile), "SELECT MF")
    }

    /// VERIFY the PIN. Throws `.wrongPIN` with the tries left, or `.blocked`.
    package static func verifyPIN(_ session: inout CardSession, _ pin: borrowing SecretBytes) throws(IASECCError) {
        try checkFormat(pin, length: pinLength, what: "PIN")
        try verify(&session, reference: CPS3.pinReference, pin, "VERIFY PIN")
    }

    /// VERIFY the PUK alone (`00 20 00 02 08 <PUK>`, cps3-card.md §7), for an SO login.
    package static func verifyPUK(_ session: inout CardSession, _ puk: borrowing SecretBytes) throws(IASECCError) {
        try checkFormat(puk, length: pukLength, what: "PUK")
        try verify(&session, reference: CPS3.pukReference, puk, "VERIFY PUK")
    }

    /// CHANGE REFERENCE DATA `00 24 00 01 Lc old‖new`: the card checks the old PIN (a wrong one costs a try).
    package static func changePIN(
        _ session: inout CardSession, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(IASECCError) {
        try checkFormat(old, length: pinLength, what: "current PIN")
        try checkFormat(new, length: pinLength, what: "new PIN")
        let response = try sendSecret(&session, ins: 0x24, p1: 0x00, p2: CPS3.pinReference) { buffer in
            old.withBytes { buffer += $0 }
            new.withBytes { buffer += $0 }
        }
        if let error = IASECCError.check(response.statusWord, "CHANGE PIN") { throw error }
    }

    /// Unblocks the PIN: VERIFY the PUK, then RESET RETRY COUNTER `00 2C 02 01 Lc newPIN` (§7).
    package static func unblockPIN(
        _ session: inout CardSession, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(IASECCError) {
        try checkFormat(newPIN, length: pinLength, what: "new PIN")
        try verifyPUK(&session, puk)
        let response = try sendSecret(&session, ins: 0x2C, p1: 0x02, p2: CPS3.pinReference) { buffer in
            newPIN.withBytes { buffer += $0 }
        }
        if response.statusWord == .authenticationMethodBlocked {
            throw IASECCError(.noUnblocksLeft, "the card allows no more unblocks", statusWord: response.statusWord)
        }
        if let error = IASECCError.check(response.statusWord, "RESET RETRY COUNTER") { throw error }
    }

    /// VERIFY without data: tries left (nil when already verified). Costs no try.
    package static func verificationState(_ session: inout CardSession, reference: UInt8) throws(IASECCError) -> Int? {
        let response = try session.send(.verifyStatus(reference: reference))
        if response.statusWord.isSuccess { return nil }
        if let tries = response.statusWord.triesLeft { return tries }
        if response.statusWord == .authenticationMethodBlocked { return 0 }
        throw IASECCError.check(response.statusWord, "VERIFY status")!
    }

    private static func verify(
        _ session: inout CardSession, reference: UInt8, _ secret: borrowing SecretBytes, _ operation: String
    ) throws(IASECCError) {
        let response = try sendSecret(&session, ins: 0x20, p1: 0x00, p2: reference) { buffer in
            secret.withBytes { buffer += $0 }
        }
        if let error = IASECCError.check(response.statusWord, operation) { throw error }
    }

    private static func sendSecret(
        _ session: inout CardSession, ins: UInt8, p1: UInt8, p2: UInt8, fill: (inout [UInt8]) -> Void
    ) throws(IASECCError) -> ResponseAPDU {
        do {
            return try session.transmitSensitive(ins: ins, p1: p1, p2: p2, fill: fill)
        } catch {
            throw IASECCError(error)
        }
    }

    /// PINs are `length` ASCII digits (bare, no padding: §4.4).
    package static func checkFormat(_ secret: borrowing SecretBytes, length: Int, what: String) throws(IASECCError) {
        guard secret.count == length, secret.isAllDigits else {
            throw IASECCError(.invalidPINFormat, "the \(what) must be exactly \(length) digits")
        }
    }
}

/// The DOCP of a CHV SDO: `70 L BF 81 ref L A0 L 9A max 9B left [9C usageMax 9D usageLeft] A1 …`.
enum DOCP {
    static func counters(_ content: [UInt8]) throws(ASN1Error) -> CredentialCounters {
        var values: [UInt32: Int] = [:]
        try collect(BERElement.sequence(content[...]), into: &values, depth: 0)
        guard let max = values[0x9A], let left = values[0x9B] else {
            throw ASN1Error(.missingField, "DOCP tries counters (9A/9B)")
        }
        return CredentialCounters(maxTries: max, triesLeft: left, usageMax: values[0x9C], usageLeft: values[0x9D])
    }

    private static func collect(_ elements: [BERElement], into values: inout [UInt32: Int], depth: Int) throws(ASN1Error) {
        guard depth < 8 else { throw ASN1Error(.tooLarge, "DOCP nested too deeply") }
        for element in elements {
            if element.isConstructed {
                try collect(element.children(), into: &values, depth: depth + 1)
            } else if [0x9A, 0x9B, 0x9C, 0x9D].contains(element.tag), let byte = element.value.last {
                values[element.tag] = Int(byte)
            }
        }
    }
}
