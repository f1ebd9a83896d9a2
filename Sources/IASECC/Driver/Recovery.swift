package import SmartCardCore

extension CPS3Driver {
    /// Runs one card operation in one transaction. If another process reset the card (PC/SC says
    /// `SCARD_W_RESET_CARD`, or `PCSCConnection` turned its protocol mismatch into that), reconnects without
    /// resetting again and runs the operation from its start — at most `CardError.restartsAfterReset` times —,
    /// so a VERIFY in `body` is sent again only because the card forgot it, never because it was refused: a
    /// wrong PIN (63Cx) is an error and is never retried.
    ///
    /// `end: .reset` ends the transaction with a warm reset (SCardEndTransaction with SCARD_RESET_CARD): an
    /// operation that verified a code leaves no verified card behind, and no other process can get in between
    /// the operation and the reset, as it could between a transaction's end and a separate reconnect.
    package static func perform<R>(
        on connection: any CardConnection, end disposition: CardDisposition = .leave,
        _ body: (inout CardSession) throws(IASECCError) -> R
    ) throws(IASECCError) -> R {
        try connection.restartingAfterResets { () throws(IASECCError) in
            try connection.withTransaction(end: disposition, body)
        }
    }

    /// `perform` for a body that throws errors of several types (a command-line tool's own errors beside the
    /// card's). Recognising a reset among them takes a cast, so the daemon and the drivers use the typed one
    /// (`CardConnection.restartingAfterResets`), whose loop this one repeats for untyped errors.
    package static func perform<R>(
        on connection: any CardConnection, end disposition: CardDisposition = .leave,
        _ body: (inout CardSession) throws -> R
    ) throws -> R {
        var restarts = 0
        while true {
            do {
                if restarts > 0 { try connection.reconnect(.leave) }
                return try connection.withTransaction(end: disposition, body)
            } catch let error as any CardErrorCarrier
                where error.cardError?.code == .cardReset && restarts < CardError.restartsAfterReset {
                restarts += 1
            }
        }
    }

    /// `perform` for an operation that verifies a code. It starts with one VERIFY without data (no try
    /// spent): if the card is already verified (another middleware's login), the transaction leaves it so;
    /// otherwise it ends with a warm reset (`CardConnection.withVerifyingTransaction`). `body` gets that
    /// answer too — nil when verified, else the tries left — for the kept-PIN counter check.
    package static func performVerifying<R>(
        on connection: any CardConnection, driver: any CardDriver,
        _ body: (inout CardSession, _ pinState: Int?) throws(IASECCError) -> R
    ) throws(IASECCError) -> R {
        try performVerifying(on: connection, driver: driver, keepOpen: false, body).value
    }

    /// `performVerifying`, keeping the transaction open and the card verified after a success when
    /// `keepOpen` (and the card was not found verified by someone else): the result's `held` says so.
    package static func performVerifying<R>(
        on connection: any CardConnection, driver: any CardDriver, keepOpen: Bool,
        _ body: (inout CardSession, _ pinState: Int?) throws(IASECCError) -> R
    ) throws(IASECCError) -> VerifyingTransactionResult<R> {
        var foundVerified = false
        // As `perform`: after a reset the card forgot everything, nothing was refused.
        return try connection.restartingAfterResets { () throws(IASECCError) in
            try connection.withVerifyingTransaction(foundVerified: { foundVerified }, keepOpen: keepOpen) {
                (session) throws(IASECCError) in
                let state = try driver.pinVerificationState(&session)
                foundVerified = state == nil
                return try body(&session, state)
            }
        }
    }
}
