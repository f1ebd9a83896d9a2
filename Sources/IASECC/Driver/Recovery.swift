package import SmartCardCore

extension CPS3Driver {
    /// Runs one card operation in one transaction. If another process reset the card (PC/SC says
    /// `SCARD_W_RESET_CARD`), reconnects without resetting again and runs the operation once more from
    /// its start, so a VERIFY in `body` is sent again only because the card forgot it, never because it
    /// was refused: a wrong PIN (63Cx) is an error and is never retried.
    package static func perform<R>(
        on connection: any CardConnection, _ body: (inout CardSession) throws -> R
    ) throws -> R {
        do {
            return try connection.withTransaction(body)
        } catch let error where isReset(error) {
            try connection.reconnect(.leave)
            return try connection.withTransaction(body)
        }
    }

    static func isReset(_ error: any Error) -> Bool {
        if let error = error as? CardError { return error.code == .cardReset }
        if let error = error as? IASECCError { return error.cardError?.code == .cardReset }
        return false
    }
}
