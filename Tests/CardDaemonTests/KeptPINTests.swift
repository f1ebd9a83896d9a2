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

    static func sign(_ cards: CardService, _ client: ClientID, _ slot: SlotState, pin: [UInt8] = TestCards.pin)
        throws(TokenError) -> [UInt8]
    {
        try cards.sign(
            client: client, slot: slot.id, generation: slot.token!.generation, request: authSign,
            pin: Codes.secret(pin), origin: .keptSinceLogin)
    }

    static func login(_ cards: CardService, _ client: ClientID, _ slot: SlotState) throws(TokenError) {
        try cards.login(
            client: client, slot: slot.id, generation: slot.token!.generation, userType: .user, pin: Codes.pin())
    }

    /// Runs `body` on a dedicated thread (as p11-kit's connection threads call the card service), with a
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
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try Self.login(cards, Self.alice, slot)
            #expect(try Self.sign(cards, Self.alice, slot).count == 256)
            // Bob (cpsctl pin change, say) changes the PIN through cpsd.
            try cards.changePIN(
                client: Self.bob, slot: slot.id, generation: generation, old: Codes.pin(),
                new: Codes.secret(Self.newPIN))
            let before = Self.verifies(card)
            for _ in 0..<3 {
                #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
            }
            #expect(Self.verifies(card) == before, "Alice's old PIN was sent after the change")
            #expect(cards.slots().first?.token?.pin == TokenCounters(triesLeft: 3, maxTries: 3))
            // Alice logs in again with the new PIN and signs.
            try cards.login(
                client: Self.alice, slot: slot.id, generation: generation, userType: .user,
                pin: Codes.secret(Self.newPIN))
            #expect(try Self.sign(cards, Self.alice, slot, pin: Self.newPIN).count == 256)
        }
    }

    @Test func theClientThatChangesItsPINStaysLoggedInWithTheNewOne() async throws {
        try await Self.withCard { daemon, _, slot in
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            for client in [Self.alice, Self.bob] {
                try Self.login(cards, client, slot)
            }
            try cards.changePIN(
                client: Self.alice, slot: slot.id, generation: generation, old: Codes.pin(),
                new: Codes.secret(Self.newPIN))
            #expect(try Self.sign(cards, Self.alice, slot, pin: Self.newPIN).count == 256)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.bob, slot) }
        }
    }

    @Test func anUnblockEndsEveryOtherLogin() async throws {
        try await Self.withCard { daemon, card, slot in
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try Self.login(cards, Self.alice, slot)
            try cards.login(
                client: Self.bob, slot: slot.id, generation: generation, userType: .securityOfficer, pin: Codes.puk())
            try cards.unblockPIN(
                client: Self.bob, slot: slot.id, generation: generation, puk: Codes.puk(),
                newPIN: Codes.secret(Self.newPIN))
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
            #expect(Self.verifies(card) == before)
            #expect(cards.slots().first?.token?.pin.triesLeft == 3)
        }
    }

    @Test func aKeptPINTheCardRefusesIsSentOnceAndNeverAgain() async throws {
        try await Self.withCard { daemon, card, slot in
            let cards = daemon.cards
            try Self.login(cards, Self.alice, slot)
            // Another middleware changes the PIN with the right old one: the counter stays at 3, so
            // nothing on the card tells cpsd; the one VERIFY that finds out is the only try spent.
            let changed = try daemon.sendBehindTheDaemon([[0x00, 0x24, 0x00, 0x01, 0x08] + TestCards.pin + Self.newPIN])
            #expect(changed == [0x90, 0x00])
            let before = Self.verifies(card)
            #expect(throws: TokenError(.pinIncorrect, "", triesLeft: 2)) { try Self.sign(cards, Self.alice, slot) }
            for _ in 0..<3 {
                #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
            }
            #expect(Self.verifies(card) == before + 1, "the refused PIN was sent again")
            #expect(cards.slots().first?.token?.pin.triesLeft == 2)
            #expect(try !daemon.cardIsVerified())
        }
    }

    @Test func aCounterMovedBehindCpsdEndsTheLoginsWithoutSendingThePIN() async throws {
        try await Self.withCard { daemon, card, slot in
            let cards = daemon.cards
            for client in [Self.alice, Self.bob] {
                try Self.login(cards, client, slot)
            }
            // Someone types a wrong PIN in another middleware: 2 tries left, and cpsd did not see it.
            let refused = try daemon.sendBehindTheDaemon([[0x00, 0x20, 0x00, 0x01, 0x04] + Array("0000".utf8)])
            #expect(refused == [0x63, 0xC2])
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.bob, slot) }
            #expect(Self.verifies(card) == before, "a kept PIN was sent on a card whose counter moved")
            #expect(cards.slots().first?.token?.pin.triesLeft == 2, "cpsd's view of the counter is true again")
            // A fresh login (the user typing the PIN) restores the counter and signing works.
            try Self.login(cards, Self.alice, slot)
            #expect(try Self.sign(cards, Self.alice, slot).count == 256)
            #expect(cards.slots().first?.token?.pin.triesLeft == 3)
        }
    }

    @Test func aPINTypedForOneOperationNeedsNoLogin() async throws {
        try await Self.withCard { daemon, _, slot in
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            let signature = try cards.sign(
                client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(),
                origin: .typedForThisOperation)
            #expect(signature.count == 256)
            #expect(try !daemon.cardIsVerified())
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
        }
    }

    @Test func aBrokenExchangeEndsEveryLoginOnTheCard() async throws {
        try await Self.withCard { daemon, card, slot in
            let cards = daemon.cards
            try Self.login(cards, Self.alice, slot)
            // The card's answer to the signature is garbled, as when it is pulled and put back (or
            // swapped) faster than pcscd looks: cpsd cannot tell it is still the same card.
            card.garbleNext(ins: 0x88)
            #expect(throws: TokenError(.deviceError, "")) { try Self.sign(cards, Self.alice, slot) }
            let before = Self.verifies(card)
            #expect(throws: TokenError(.notLoggedIn, "")) { try Self.sign(cards, Self.alice, slot) }
            #expect(Self.verifies(card) == before, "a kept PIN was sent after a broken exchange")
            try Self.login(cards, Self.alice, slot)
            #expect(try Self.sign(cards, Self.alice, slot).count == 256)
            #expect(cards.slots().first?.token?.pin.triesLeft == 3)
        }
    }
}
