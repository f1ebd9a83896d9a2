package import SmartCardCore

/// CPS4 PIN and PUK commands (cps4-card.md §6): counters by VERIFY without data, CHANGE and RESET RETRY
/// COUNTER in their two-command ChipDoc forms. Every status word is checked (Cryptolib 5.2 swallows
/// errors of CHANGE and RRC: §13). A command carrying a code is never sent twice.
extension CPS4Driver {
    /// The tries left of `reference` without spending one: `63Cx`, `6983` (blocked) or `9000` (verified
    /// in this card session: the counter is then full).
    static func counters(_ session: inout CardSession, reference: UInt8, maxTries: Int) throws(IASECCError)
        -> CredentialCounters
    {
        try counters(from: try verifyStatus(&session, reference: reference), maxTries: maxTries)
    }

    /// VERIFY without data in ChipDoc (reselected once if the card lost it): the card's status word.
    static func verifyStatus(_ session: inout CardSession, reference: UInt8) throws(IASECCError) -> StatusWord {
        try ensureChipDoc(&session)
        return try withChipDocRecovery(&session) { (session) throws(IASECCError) in
            let response = try session.send(.verifyStatus(reference: reference, cla: cla))
            if meansContextLost(response.statusWord) { throw IASECCError.check(response.statusWord, "VERIFY status")! }
            return response.statusWord
        }
    }

    /// A VERIFY status word as counters: 9000 (verified) counts as all tries left.
    static func counters(from statusWord: StatusWord, maxTries: Int) throws(IASECCError) -> CredentialCounters {
        if statusWord.isSuccess { return CredentialCounters(maxTries: maxTries, triesLeft: maxTries) }
        if statusWord == .authenticationMethodBlocked { return CredentialCounters(maxTries: maxTries, triesLeft: 0) }
        if let tries = statusWord.triesLeft { return CredentialCounters(maxTries: max(maxTries, tries), triesLeft: tries) }
        throw IASECCError.check(statusWord, "VERIFY status") ?? IASECCError(.unexpectedStatus, "VERIFY status")
    }

    /// The PIN and PUK references: known once the card was read, else from the AODF.
    func resolvedReferences(_ session: inout CardSession) throws(IASECCError) -> PINReferences {
        if let references { return references }
        return PINReferences(try Self.readPINObjects(&session))
    }

    /// EF.DIR, the ODF and the AODFs only: what a PIN command needs when the card was not read before.
    static func readPINObjects(_ session: inout CardSession) throws(IASECCError) -> [PINObject] {
        try ensureChipDoc(&session)
        let application = try CPS3Driver.decode(readFile(&session, CPS4.efDIR, "EF.DIR")) {
            (bytes) throws(ASN1Error) in try ChipDocFiles.applicationPath(in: bytes, aid: CPS4.pkcs15AID)
        }
        let odf = try CPS3Driver.decode(
            readFile(&session, ChipDocFiles.pathAfterMF(CPS3.efODF, application: application), "EF.ODF"),
            PKCS15Parser.objectDirectory)
        var pins: [PINObject] = []
        for file in odf.authObjects {
            let content = try readFile(&session, ChipDocFiles.pathAfterMF(file, application: application), "AODF")
            pins += try CPS3Driver.decode(content, PKCS15Parser.pinObjects)
        }
        return pins
    }

    /// VERIFY `01 20 00 ref Lc code`: once, never replayed.
    static func verify(
        _ session: inout CardSession, reference: UInt8, _ secret: borrowing SecretBytes, _ operation: String
    ) throws(IASECCError) {
        try ensureChipDoc(&session)
        let response = try sendSecret(&session, ins: 0x20, p1: 0x00, p2: reference) { buffer in
            secret.withBytes { buffer += $0 }
        }
        if let error = IASECCError.check(response.statusWord, operation) { throw error }
    }

    /// CHANGE REFERENCE DATA with the new value only, `01 24 01 ref Lc new`: the card accepts it after
    /// the old PIN (change) or the PUK and RESET RETRY COUNTER (unblock) were verified just before.
    static func setNewPIN(
        _ session: inout CardSession, reference: UInt8, _ newPIN: borrowing SecretBytes
    ) throws(IASECCError) {
        let response = try sendSecret(&session, ins: 0x24, p1: 0x01, p2: reference) { buffer in
            newPIN.withBytes { buffer += $0 }
        }
        if let error = IASECCError.check(response.statusWord, "CHANGE REFERENCE DATA") { throw error }
    }

    /// RESET RETRY COUNTER `01 2C 03 ref|80`, no data: the PUK was verified just before.
    static func resetRetryCounter(_ session: inout CardSession, reference: UInt8) throws(IASECCError) {
        let response = try session.send(.resetRetryCounter(reference: reference, cla: cla))
        if response.statusWord == .authenticationMethodBlocked {
            throw IASECCError(.noUnblocksLeft, "the card allows no more unblocks", statusWord: response.statusWord)
        }
        if let error = IASECCError.check(response.statusWord, "RESET RETRY COUNTER") { throw error }
    }

    private static func sendSecret(
        _ session: inout CardSession, ins: UInt8, p1: UInt8, p2: UInt8, fill: (inout [UInt8]) -> Void
    ) throws(IASECCError) -> ResponseAPDU {
        do {
            return try session.transmitSensitive(cla: cla, ins: ins, p1: p1, p2: p2, fill: fill)
        } catch {
            throw IASECCError(error)
        }
    }
}
