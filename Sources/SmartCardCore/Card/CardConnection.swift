/// What happens to the card when a transaction or connection ends (PC/SC dispositions).
package enum CardDisposition: Sendable, Hashable {
    /// Leave the card as it is: its security state (a verified PIN) survives.
    case leave
    /// Warm reset: the card loses its security state and selected files.
    case reset
    /// Power the card off.
    case unpower
}

/// A connection to the card in one reader: the seam between code that speaks APDUs and the thing
/// that carries them (pcsc-lite, or the in-process virtual card).
///
/// A connection has one owner at a time (a reader actor, a CLI command); conformers are Sendable so
/// that the owner may move between threads, not so that two threads use it at once.
package protocol CardConnection: AnyObject, Sendable {
    var readerName: String { get }
    /// The ATR the card gave when this connection was made or last reconnected.
    var atr: ATR { get }
    /// Sends one raw command APDU and returns the raw response, at least 2 bytes.
    func transmit(_ command: [UInt8]) throws(CardError) -> [UInt8]
    /// Takes exclusive access to the card until `endTransaction`, so no other process interleaves APDUs.
    func beginTransaction() throws(CardError)
    func endTransaction(_ disposition: CardDisposition) throws(CardError)
    /// Re-establishes the connection after the card was reset by another process, or resets it.
    func reconnect(_ initialization: CardDisposition) throws(CardError)
    func disconnect(_ disposition: CardDisposition)
    /// Whether the reader takes a PIN on its own keypad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT).
    var hasPINPad: Bool { get }
    /// Has the reader collect a code on its keypad and send `verify` with it; the raw answer.
    func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8]
}

extension CardConnection {
    package var hasPINPad: Bool { false }

    package func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> [UInt8] {
        throw CardError(.internalError, "\(readerName) has no PIN pad")
    }

    /// Runs `body`, which verifies a code, inside one transaction that ends with a warm reset, so that no
    /// other process finds the card verified by cpsd — unless `foundVerified()` says the card was already
    /// verified when `body` began (another middleware is logged in: Cryptolib keeps its login on the card
    /// and takes a reset for a card swap, failing its next call). Then the card is left as it was found:
    /// cpsd never leaves it more verified than it found it, and never breaks another middleware's login.
    /// A failure to begin or end the transaction is thrown as `Failure(cardError)`.
    package func withVerifyingTransaction<R, Failure: CardErrorCarrier>(
        foundVerified: () -> Bool, _ body: (inout CardSession) throws(Failure) -> R
    ) throws(Failure) -> R {
        try withVerifyingTransaction(foundVerified: foundVerified, keepOpen: false, body).value
    }

    /// `withVerifyingTransaction`, which may instead keep the transaction open after a success: when
    /// `keepOpen` is true and the card was not found verified, the transaction is not ended and the card
    /// stays verified, for this connection alone (PC/SC gives nobody else the card until the transaction
    /// ends). The result's `held` says so, with the application the session left selected; the owner then
    /// runs later work in it (`withinHeldTransaction`) and ends it with a reset (`endHeldTransaction`).
    /// A failure always ends the transaction, as above.
    package func withVerifyingTransaction<R, Failure: CardErrorCarrier>(
        foundVerified: () -> Bool, keepOpen: Bool, _ body: (inout CardSession) throws(Failure) -> R
    ) throws(Failure) -> VerifyingTransactionResult<R> {
        do throws(CardError) { try beginTransaction() } catch { throw Failure(error) }
        var session = CardSession(connection: self)
        let result: R
        do throws(Failure) {
            result = try body(&session)
        } catch {
            try? endTransaction(foundVerified() ? .leave : .reset)
            throw error
        }
        if keepOpen && !foundVerified() {
            return VerifyingTransactionResult(value: result, held: HeldTransaction(application: session.currentApplication))
        }
        do throws(CardError) { try endTransaction(foundVerified() ? .leave : .reset) } catch { throw Failure(error) }
        return VerifyingTransactionResult(value: result, held: nil)
    }

    /// Runs `body` in the transaction `withVerifyingTransaction(keepOpen: true)` left open: no begin, no
    /// end, the card still verified. `held` gets the application the session leaves selected. The caller
    /// ends the transaction (`endHeldTransaction`) when `body` fails, since it no longer knows the card's state.
    package func withinHeldTransaction<R, Failure: Error>(
        _ held: inout HeldTransaction, _ body: (inout CardSession) throws(Failure) -> R
    ) throws(Failure) -> R {
        var session = CardSession(connection: self)
        session.currentApplication = held.application
        let result = try body(&session)
        held.application = session.currentApplication
        return result
    }

    /// Runs `attempt`, and runs it again after a reconnect (without a reset of its own) each time another process
    /// had reset the card (`.cardReset`: the failed command never reached the card, which forgot its state), at
    /// most `CardError.restartsAfterReset` times; then the reset is thrown. Any other failure is thrown at once.
    package func restartingAfterResets<R, Failure: CardErrorCarrier>(
        _ attempt: () throws(Failure) -> R
    ) throws(Failure) -> R {
        var restarts = 0
        while true {
            do throws(Failure) {
                if restarts > 0 {
                    do throws(CardError) { try reconnect(.leave) } catch { throw Failure(error) }
                }
                return try attempt()
            } catch where error.cardError?.code == .cardReset && restarts < CardError.restartsAfterReset {
                restarts += 1
            }
        }
    }

    /// Ends a held transaction with a warm reset: the card forgets the verification, then other processes
    /// may have it. Nobody could reach the card in between.
    package func endHeldTransaction() throws(CardError) {
        try endTransaction(.reset)
    }

    /// Runs `body` inside one transaction: every APDU of one operation goes out without another
    /// process's APDUs in between. The session cannot escape the closure. `body`'s error type is the
    /// whole operation's: a failure to begin or end the transaction is thrown as `Failure(cardError)`, so
    /// the caller decides by one type's code. A closure picks this overload by spelling its error type, as
    /// `{ (session) throws(IASECCError) in ... }`; Swift 6 infers `any Error` for a closure that does not.
    package func withTransaction<R, Failure: CardErrorCarrier>(
        end disposition: CardDisposition = .leave,
        _ body: (inout CardSession) throws(Failure) -> R
    ) throws(Failure) -> R {
        do throws(CardError) { try beginTransaction() } catch { throw Failure(error) }
        var session = CardSession(connection: self)
        do throws(Failure) {
            let result = try body(&session)
            do throws(CardError) { try endTransaction(disposition) } catch { throw Failure(error) }
            return result
        } catch {
            try? endTransaction(disposition)
            throw error
        }
    }

    /// `withTransaction` for a body that throws errors of several types (a command-line tool's own errors
    /// beside the card's); they pass through untouched.
    package func withTransaction<R>(
        end disposition: CardDisposition = .leave,
        _ body: (inout CardSession) throws -> R
    ) throws -> R {
        try beginTransaction()
        var session = CardSession(connection: self)
        do {
            let result = try body(&session)
            try endTransaction(disposition)
            return result
        } catch {
            try? endTransaction(disposition)
            throw error
        }
    }
}

/// A transaction a verifying operation kept open (`withVerifyingTransaction(keepOpen: true)`), the card
/// verified inside it: what a later operation of the same owner needs to go on in it.
package struct HeldTransaction: Sendable, Equatable {
    /// The application the last session left selected, so the next one does not select it again.
    package var application: [UInt8]?
}

/// The value of a verifying transaction, and the transaction itself when it was kept open.
package struct VerifyingTransactionResult<Value> {
    package var value: Value
    package var held: HeldTransaction?
}
