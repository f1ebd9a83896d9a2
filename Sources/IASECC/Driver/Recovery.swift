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

    /// `perform` for an operation that verifies a code: the transaction ends with a warm reset unless the
    /// card was found verified (`CardConnection.withVerifyingTransaction`), and says which.
    package static func performVerifying<R>(
        on connection: any CardConnection, foundVerified: () -> Bool, _ body: (inout CardSession) throws -> R
    ) throws -> (result: R, end: VerifiedTransactionEnd) {
        do {
            return try connection.withVerifyingTransaction(foundVerified: foundVerified, body)
        } catch let error where isReset(error) {
            try connection.reconnect(.leave)
            return try connection.withVerifyingTransaction(foundVerified: foundVerified, body)
        }
    }

    static func isReset(_ error: any Error) -> Bool {
        if let error = error as? CardError { return error.code == .cardReset }
        if let error = error as? IASECCError { return error.cardError?.code == .cardReset }
        return false
    }
}
