import PKCS11
import SmartCardCore
import Synchronization

/// The card left verified for one client, for a moment, inside the PC/SC transaction cpsd kept open after
/// that client's operation (DESIGN decision 3, the one exception to "reset after every verifying operation").
///
/// While it lasts, PC/SC gives the card to nobody else (the transaction is exclusive: another process's
/// SCardBeginTransaction waits), and inside cpsd only the owner's next key operation with its kept PIN runs
/// in it — no counter read, no VERIFY, no selection, no reset. Anything else — another client, an operation of
/// another kind, a PIN change, a logout, SIGHUP, the window running out — ends it first with a warm reset
/// (SCardEndTransaction with SCARD_RESET_CARD: nobody comes in between). If cpsd dies meanwhile, pcscd ends
/// its handles with a reset too. This is how a batch of signatures costs what it costs with the vendor's
/// middleware, which leaves the card verified from C_Login to C_Logout, without leaving it so to anyone else.
struct VerifiedHold: Sendable {
    /// Whose kept PIN verified the card.
    let owner: ClientID
    /// The credential epoch of that login: a PIN change or unblock ends the login, and the hold with it.
    let credentialEpoch: UInt64
    var transaction: HeldTransaction
    /// When the reader ends it if nothing renewed it.
    var expires: ContinuousClock.Instant
    /// Tells this hold from a later one, for the timer that ends it.
    let episode: UInt64

    /// Whether `client`'s operation may go on in the hold: only the owner's, in the login it was made in.
    func admits(_ client: ClientID, credentialEpoch epoch: UInt64) -> Bool {
        owner == client && credentialEpoch == epoch
    }
}

/// How long the card stays verified for the same client after its operation (`VerifiedHold`); zero: reset
/// after every operation. cpsd's `verified-hold-ms` setting; changed on SIGHUP, read by each operation.
package final class VerifiedHoldWindow: Sendable {
    /// Past this, a verified card held exclusively would keep other middlewares waiting too long.
    package static let maximum: Duration = .seconds(5)
    private let window: Mutex<Duration>

    package init(_ window: Duration = .zero) { self.window = Mutex(Self.bounded(window)) }

    package var value: Duration {
        get { window.withLock { $0 } }
        set { window.withLock { $0 = Self.bounded(newValue) } }
    }

    private static func bounded(_ window: Duration) -> Duration { min(max(window, .zero), maximum) }
}
