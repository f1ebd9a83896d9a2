import Logging
import IASECC
import PKCS11
import SmartCardCore

/// Keeping the card verified for the same client between two of its key operations (`VerifiedHold`), and
/// ending that the moment anything else wants the card.
extension ReaderActor {
    /// Runs `client`'s key operation in the card's hold, if the hold is this client's and its login still
    /// holds: no counter read, no VERIFY, no selection, no reset; the hold is renewed. Nil when the operation
    /// must take the ordinary path, whose `ensureNotVerified` ends any hold first: no hold, someone else's,
    /// or a card that forgot the verification after all (a lost context, 6982).
    /// Any other failure ends the hold too and is thrown: cpsd no longer knows the card's state.
    func runInHold(
        client: ClientID, _ card: inout InsertedCard,
        _ body: (inout InsertedCard, inout CardSession) throws(IASECCError) -> [UInt8]
    ) throws(IASECCError) -> [UInt8]? {
        guard var hold = card.hold, hold.admits(client, credentialEpoch: card.credentialEpoch),
            card.holdsCurrentLogin(client)
        else { return nil }
        do {
            let result = try card.connection.withinHeldTransaction(&hold.transaction) { (session) throws(IASECCError) in
                try body(&card, &session)
            }
            hold.expires = ContinuousClock.now + holdWindow.value
            card.hold = hold
            return result
        } catch where [.pinRequired, .contextLost, .conditionsNotSatisfied].contains(error.code) {
            // The card forgot the verification: the ordinary path ends the hold and verifies again, under the
            // kept-PIN rules.
            return nil
        } catch {
            try? card.endHold()
            throw error
        }
    }

    /// After a verifying transaction: keeps the hold it left open, for `client`, and starts the timer that
    /// ends it; with no transaction left open, the card holds no verification of cpsd's.
    func keepVerified(_ held: HeldTransaction?, for client: ClientID, _ card: inout InsertedCard) {
        guard let held else {
            card.verifyingTransactionEnded()
            return
        }
        holdsStarted += 1
        let expires = ContinuousClock.now + holdWindow.value
        card.hold = VerifiedHold(
            owner: client, credentialEpoch: card.credentialEpoch, transaction: held, expires: expires,
            episode: holdsStarted)
        startHoldTimer(episode: holdsStarted, expires: expires)
        logger.debug("verified hold started", metadata: ["client": "\(client)", "episode": "\(holdsStarted)"])
    }

    /// Whether an operation that verifies `pin` for `client` may leave a hold: only with a kept PIN (a PIN
    /// typed for one operation, or a PIN pad's keypad, is asked again each time) and a window set.
    func mayHold(_ pin: SecretHolder, origin: PINOrigin) -> Bool {
        origin == .keptSinceLogin && pin.secret.count > 0 && holdWindow.value > .zero
    }

    /// Sleeps until the hold's end, off the reader's thread; the hold may have been renewed meanwhile,
    /// then it sleeps again until the new end.
    private func startHoldTimer(episode: UInt64, expires: ContinuousClock.Instant) {
        Task.detached { [weak self] in
            var deadline = expires
            while true {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard let reader = self, let later = await reader.holdDeadlinePassed(episode: episode) else { return }
                deadline = later
            }
        }
    }

    /// The hold of `episode` ends now if its time is up (nil: ended, or already gone); else its new end.
    private func holdDeadlinePassed(episode: UInt64) -> ContinuousClock.Instant? {
        guard case .present(var card) = state, let hold = card.hold, hold.episode == episode else { return nil }
        if ContinuousClock.now < hold.expires { return hold.expires }
        logger.debug("verified hold ended: its time is up", metadata: ["episode": "\(episode)"])
        do throws(CardError) {
            try card.endHold()
        } catch {
            // `mayBeVerified` stays set: the next operation resets the card first.
            logger.warning("ending the verified hold failed", metadata: ["error": "\(error)"])
        }
        set(.present(card))
        return nil
    }
}
