package import SmartCardCore

/// Getting the ChipDoc context back (cps4-card.md §3 "Recovery rules", §8): when another stack talked to
/// the card on channel 0 (API-CPS, a CPS2ter reader) or reset it, ChipDoc answers 6985 (context lost,
/// Cryptolib issue #1722), 6881 (channel 1 not open) or 6E00. The driver then replays Cryptolib's
/// reselect (ISD on channel 1, CPS2ter on channel 0, ChipDoc on channel 1) and sends the failed command
/// once more. Only commands without a secret are replayed: a VERIFY is never sent twice.
extension CPS4Driver {
    /// The status words that mean "the ChipDoc context is gone", not "your command is wrong".
    static func meansContextLost(_ statusWord: StatusWord?) -> Bool {
        guard let statusWord else { return false }
        return statusWord == .conditionsOfUseNotSatisfied || statusWord == .logicalChannelNotSupported
            || statusWord.rawValue >> 8 == 0x6E
    }

    /// Runs `body` (commands without secrets); if the card lost the context, reselects and runs it again
    /// once. `recovered` tells the caller a reselect happened, so a later 6982 means the reselect cost the
    /// verification (a context problem), not a missing login.
    static func withChipDocRecovery<R>(
        _ session: inout CardSession, recovered: inout Bool, _ body: (inout CardSession) throws(IASECCError) -> R
    ) throws(IASECCError) -> R {
        do {
            return try body(&session)
        } catch where meansContextLost(error.statusWord) {
            try reselectChipDoc(&session)
            recovered = true
            return try body(&session)
        }
    }

    static func withChipDocRecovery<R>(
        _ session: inout CardSession, _ body: (inout CardSession) throws(IASECCError) -> R
    ) throws(IASECCError) -> R {
        var recovered = false
        return try withChipDocRecovery(&session, recovered: &recovered, body)
    }

    /// Cryptolib's three-step reselect. The first two answers are not judged (a card without an ISD on
    /// channel 1 still gets its ChipDoc back); the last must succeed.
    static func reselectChipDoc(_ session: inout CardSession) throws(IASECCError) {
        session.currentApplication = nil
        _ = try session.send(.selectApplication(CPS4.issuerSecurityDomainAID, cla: cla))
        _ = try session.send(.selectApplication(CPS4.cps2terAID, cla: 0x00))
        let response = try session.send(.selectApplication(CPS4.chipDocAID, cla: cla))
        if response.statusWord == .fileNotFound {
            throw IASECCError(.notCPS3, "no ChipDoc application (SELECT AID answered 6A82)", statusWord: response.statusWord)
        }
        if let error = IASECCError.check(response.statusWord, "SELECT ChipDoc") { throw error }
        session.currentApplication = CPS4.chipDocAID
    }

    /// A PSO answered 6982 after a reselect in the same operation: the card forgot the verification with
    /// its context. Reported as a lost context (the operation may be tried again, the login stands),
    /// and the PIN is not sent again here.
    static func contextLostIfRecovered(_ error: IASECCError, recovered: Bool) -> IASECCError {
        guard recovered, error.code == .pinRequired else { return error }
        return IASECCError(
            .contextLost, "the card lost its ChipDoc context and the verification with it: try again",
            statusWord: error.statusWord)
    }
}

extension StatusWord {
    /// 6881: logical channel not supported (or not open).
    package static let logicalChannelNotSupported = StatusWord(rawValue: 0x6881)
}
