package import SmartCardCore

extension CPS3Driver {
    /// Runs one card operation in one transaction. If another process reset the card (PC/SC says
    /// `SCARD_W_RESET_CARD`), reconnects without resetting again and runs the operation once more from
    /// its start, so a VERIFY in `body` is sent again only because the card forgot it, never because it
    /// was refused: a wrong PIN (63Cx) is an error and is never retried.
    ///
    /// `end: .reset` ends the transaction with a warm reset (SCardEndTransaction with SCARD_RESET_CARD): an
    /// operation that verified a code leaves no verified card behind, and no other process can get in between
    /// the operation and the reset, as it could between a transaction's end and a separate reconnect.
    package static func perform<R>(
        on connection: any CardConnection, end disposition: CardDisposition = .leave,
        _ body: (inout CardSession) throws -> R
    ) throws -> R {
        do {
            return try connection.withTransaction(end: disposition, body)
        } catch let error where isReset(error) {
            try connection.reconnect(.leave)
            return try connection.withTransaction(end: disposition, body)
        }
    }

    /// `perform` for an operation that verifies a code. It starts with one VERIFY without data (no try
    /// spent): if the card is already verified (another middleware's login), the transaction leaves it so;
    /// otherwise it ends with a warm reset (`CardConnection.withVerifyingTransaction`). `body` gets that
    /// answer too — nil when verified, else the tries left — for the kept-PIN counter check.
    package static func performVerifying<R>(
        on connection: any CardConnection, driver: any CardDriver,
        _ body: (inout CardSession, _ pinState: Int?) throws -> R
    ) throws -> R {
        var foundVerified = false
        var reconnected = false
        while true {
            do {
                return try connection.withVerifyingTransaction(foundVerified: { foundVerified }) { session in
                    let state = try driver.pinVerificationState(&session)
                    foundVerified = state == nil
                    return try body(&session, state)
                }
            } catch let error where isReset(error) && !reconnected {
                // Once, as `perform`: the card forgot everything, nothing was refused.
                reconnected = true
                try connection.reconnect(.leave)
            }
        }
    }

    static func isReset(_ error: any Error) -> Bool {
        if let error = error as? CardError { return error.code == .cardReset }
        if let error = error as? IASECCError { return error.cardError?.code == .cardReset }
        return false
    }
}
