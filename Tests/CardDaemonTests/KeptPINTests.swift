import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// A PIN kept since C_Login is never the cause of a spent try: it is not sent after a PIN change or an
/// unblock by any client, nor when the card's counter moved behind cpsd's back, and once the card refused
/// it, it is never sent again (issue 10, item 1).
@Suite struct KeptPINTests {
    static let alice = ClientID(1)
    static let bob = ClientID(2)
    static let authSign = SignatureRequest.rsaPKCS(role: .authentication, input: sha256DigestInfo)
    static let newPIN: [UInt8] = Array("5678".utf8)
    static let verifyPIN = RecordingCard.Entry.command(ins: 0x20, p2: 0x01)

    static func verifies(_ card: RecordingCard) -> Int { card.log.filter { $0 == verifyPIN }.count }

    static func sign(_ driver: DaemonTokenDriver, _ client: ClientID, _ slot: SlotState, pin: [UInt8] = TestCards.pin)
        throws(TokenError) -> [UInt8]
    {
        try driver.sign(
            client: client, slot: slot.id, generation: slot.token!.generation, request: authSign,
            pin: Codes.secret(pin), origin: .keptSinceLogin)
    }

    static func login(_ driver: DaemonTokenDriver, _ client: ClientID, _ slot: SlotState) throws(TokenError) {
        try driver.login(
            client: client, slot: slot.id, generation: slot.token!.generation, userType: .user, pin: Codes.pin())
    }

    /// Runs `body` on a dedicated thread (as p11-kit's connection threads call the driver), with a
    /// recording card in the daemon's reader.
    static func withCard(_ body: @escaping @Sendable (Daemon, RecordingCard, SlotState) throws -> Void) async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            try await onThread { try body(daemon, card, slot) }
        }
    }

    @Test func aPINChangeByAnotherClientEndsTheOtherLoginsWithoutATry() async throws {
        try await Self.withCard { daemon, card, slot in
            let (driver, generation) = (daemon.driver, slot.token!.generation)
            try Self.login(driver, Self.alice, slot)
            #expect(try Self.sign(driver, Self.alice, slot).count == 256)
            // Bob (cpsctl pin change, say) changes the PIN through cpsd.
            try driver.changePIN(
                client: Self.bob, slot: slot.id, generation: generation, old: Codes.pin(),
                new: Codes.secret(Self.newPIN))
            let before = Self.verifies(card)
            for _ in 0..<3 {
                #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
            }
            #expect(Self.verifies(card) == before, "Alice's old PIN was sent after the change")
            #expect(driver.slots().first?.token?.pin == TokenCounters(triesLeft: 3, maxTries: 3))
            // Alice logs in again with the new PIN and signs.
            try driver.login(
                client: Self.alice, slot: slot.id, generation: generation, userType: .user,
                pin: Codes.secret(Self.newPIN))
            #expect(try Self.sign(driver, Self.alice, slot, pin: Self.newPIN).count == 256)
        }
    }

    @Test func theClientThatChangesItsPINStaysLoggedInWithTheNewOne() async throws {
        try await Self.withCard { daemon, _, slot in
            let (driver, generation) = (daemon.driver, slot.token!.generation)
            for client in [Self.alice, Self.bob] {
                try Self.login(driver, client, slot)
            }
            try driver.changePIN(
                client: Self.alice, slot: slot.id, generation: generation, old: Codes.pin(),
                new: Codes.secret(Self.newPIN))
            #expect(try Self.sign(driver, Self.alice, slot, pin: Self.newPIN).count == 256)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.bob, slot) }
        }
    }

    @Test func anUnblockEndsEveryOtherLogin() async throws {
        try await Self.withCard { daemon, card, slot in
            let (driver, generation) = (daemon.driver, slot.token!.generation)
            try Self.login(driver, Self.alice, slot)
            try driver.login(
                client: Self.bob, slot: slot.id, generation: generation, userType: .securityOfficer, pin: Codes.puk())
            try driver.unblockPIN(
                client: Self.bob, slot: slot.id, generation: generation, puk: Codes.puk(),
                newPIN: Codes.secret(Self.newPIN))
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
            #expect(Self.verifies(card) == before)
            #expect(driver.slots().first?.token?.pin.triesLeft == 3)
        }
    }

    @Test func aKeptPINTheCardRefusesIsSentOnceAndNeverAgain() async throws {
        try await Self.withCard { daemon, card, slot in
            let driver = daemon.driver
            try Self.login(driver, Self.alice, slot)
            // Another middleware changes the PIN with the right old one: the counter stays at 3, so
            // nothing on the card tells cpsd; the one VERIFY that finds out is the only try spent.
            let changed = try daemon.sendBehindTheDaemon([[0x00, 0x24, 0x00, 0x01, 0x08] + TestCards.pin + Self.newPIN])
            #expect(changed == [0x90, 0x00])
            let before = Self.verifies(card)
            #expect(throws: TokenError(.pinIncorrect, "", triesLeft: 2)) { try Self.sign(driver, Self.alice, slot) }
            for _ in 0..<3 {
                #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
            }
            #expect(Self.verifies(card) == before + 1, "the refused PIN was sent again")
            #expect(driver.slots().first?.token?.pin.triesLeft == 2)
            #expect(try !daemon.cardIsVerified())
        }
    }

    @Test func aCounterMovedBehindCpsdEndsTheLoginsWithoutSendingThePIN() async throws {
        try await Self.withCard { daemon, card, slot in
            let driver = daemon.driver
            for client in [Self.alice, Self.bob] {
                try Self.login(driver, client, slot)
            }
            // Someone types a wrong PIN in another middleware: 2 tries left, and cpsd did not see it.
            let refused = try daemon.sendBehindTheDaemon([[0x00, 0x20, 0x00, 0x01, 0x04] + Array("0000".utf8)])
            #expect(refused == [0x63, 0xC2])
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.bob, slot) }
            #expect(Self.verifies(card) == before, "a kept PIN was sent on a card whose counter moved")
            #expect(driver.slots().first?.token?.pin.triesLeft == 2, "cpsd's view of the counter is true again")
            // A fresh login (the user typing the PIN) restores the counter and signing works.
            try Self.login(driver, Self.alice, slot)
            #expect(try Self.sign(driver, Self.alice, slot).count == 256)
            #expect(driver.slots().first?.token?.pin.triesLeft == 3)
        }
    }

    @Test func aPINTypedForOneOperationNeedsNoLogin() async throws {
        try await Self.withCard { daemon, _, slot in
            let (driver, generation) = (daemon.driver, slot.token!.generation)
            let signature = try driver.sign(
                client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(),
                origin: .typedForThisOperation)
            #expect(signature.count == 256)
            #expect(try !daemon.cardIsVerified())
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
        }
    }

    @Test func aBrokenExchangeEndsEveryLoginOnTheCard() async throws {
        try await Self.withCard { daemon, card, slot in
            let driver = daemon.driver
            try Self.login(driver, Self.alice, slot)
            // The card's answer to the signature is garbled, as when it is pulled and put back (or
            // swapped) faster than pcscd looks: cpsd cannot tell it is still the same card.
            card.garbleNext(ins: 0x88)
            #expect(throws: TokenError(.deviceError, "")) { try Self.sign(driver, Self.alice, slot) }
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(driver, Self.alice, slot) }
            #expect(Self.verifies(card) == before, "a kept PIN was sent after a broken exchange")
            try Self.login(driver, Self.alice, slot)
            #expect(try Self.sign(driver, Self.alice, slot).count == 256)
            #expect(driver.slots().first?.token?.pin.triesLeft == 3)
        }
    }
}
