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

    /// Runs `body` inside one transaction: every APDU of one operation goes out without another
    /// process's APDUs in between. The session cannot escape the closure.
    /// Runs `body`, which verifies a code, inside one transaction that ends with a warm reset, so that no
    /// other process finds the card verified by cpsd — unless `foundVerified()` says the card was already
    /// verified when `body` began (another middleware is logged in: Cryptolib keeps its login on the card
    /// and takes a reset for a card swap, failing its next call). Then the card is left as it was found:
    /// cpsd never leaves it more verified than it found it, and never breaks another middleware's login.
    package func withVerifyingTransaction<R>(
        foundVerified: () -> Bool, _ body: (inout CardSession) throws -> R
    ) throws -> R {
        try beginTransaction()
        var session = CardSession(connection: self)
        let result: R
        do {
            result = try body(&session)
        } catch {
            try? endTransaction(foundVerified() ? .leave : .reset)
            throw error
        }
        try endTransaction(foundVerified() ? .leave : .reset)
        return result
    }

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
