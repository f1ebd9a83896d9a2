package import SmartCardCore

/// VERIFY of the PIN on the reader's own keypad (a PIN-pad reader): the digits go from the keypad to the card
/// without crossing the computer. The reader answers with the card's status word, or with its own for a
/// person who cancelled, was too slow, or typed a length the card cannot take (nothing reached the card).
enum PINPadVerification {
    static func verify(_ session: inout CardSession, header: [UInt8]) throws(IASECCError) {
        let request = PINPadVerify(header: header, minDigits: CPS3Driver.pinLength, maxDigits: CPS3Driver.pinLength)
        let response: ResponseAPDU
        do {
            response = try session.verifyOnPINPad(request)
        } catch {
            throw IASECCError(error)
        }
        switch response.statusWord.rawValue {
        case PINPadVerify.timedOut: throw IASECCError(.pinEntryCancelled, "no PIN typed on the reader in time")
        case PINPadVerify.cancelled: throw IASECCError(.pinEntryCancelled, "PIN entry cancelled on the reader")
        case PINPadVerify.lengthRefused:
            throw IASECCError(.invalidPINFormat, "the reader refused the PIN's length (a CPS PIN is 4 digits)")
        default:
            if let error = IASECCError.check(response.statusWord, "VERIFY PIN on the PIN pad") { throw error }
        }
    }
}

extension CPS3Driver {
    package func verifyPINOnPad(_ session: inout CardSession) throws(IASECCError) {
        try PINPadVerification.verify(&session, header: [0x00, 0x20, 0x00, CPS3.pinReference])
    }
}

extension CPS4Driver {
    /// In ChipDoc, on its logical channel, as the keyboard VERIFY (cps4-card.md §6).
    package func verifyPINOnPad(_ session: inout CardSession) throws(IASECCError) {
        let references = try resolvedReferences(&session)
        try Self.ensureChipDoc(&session)
        try PINPadVerification.verify(&session, header: [Self.cla, 0x20, 0x00, references.pin])
    }
}
