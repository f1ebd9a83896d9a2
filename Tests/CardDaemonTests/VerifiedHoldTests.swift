import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Synchronization
import Testing
import VirtualCard

/// DESIGN decision 3's one exception (`VerifiedHold`): after a client's operation the card may stay verified
/// for that client's next key operation, inside cpsd's still-open transaction, and for nobody else.
@Suite struct VerifiedHoldTests {
    static let alice = ClientID(1)
    static let bob = ClientID(2)
    static let authSign = SignatureRequest.rsaPKCS(role: .authentication, input: sha256DigestInfo)
    /// Long enough that no hold of these tests ends by itself before the test ends it.
    static let longHold: Duration = .seconds(5)

    static func verifies(_ card: RecordingCard) -> Int { card.log.filter { $0 == .command(ins: 0x20, p2: 0x01) }.count }
    static func resets(_ card: RecordingCard) -> Int { card.log.filter { $0 == .reset }.count }

    /// Whether another connection can reach the card now: refused while cpsd holds it.
    static func isHeld(_ daemon: Daemon) -> Bool {
        do {
            _ = try daemon.cardIsVerified()
            return false
        } catch let error as CardError {
            return error.code == .sharingViolation
        } catch {
            return false
        }
    }

    @Test func theSameClientsNextSignaturesRunInTheHoldWithoutVerify() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                #expect(Self.verifies(card) == 1)
                let resets = Self.resets(card)
                // The first one selects the application again (the login read the data objects' files).
                try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                let (commands, logLength) = (card.commandCount, card.log.count)
                for _ in 0..<3 {
                    let signature = try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                    #expect(signature.count == 256)
                }
                #expect(Self.verifies(card) == 1, "a signature in the hold sent VERIFY")
                #expect(Self.resets(card) == resets, "a signature in the hold reset the card")
                // MSE SET AT and INTERNAL AUTHENTICATE (and its GET RESPONSE) only: no counter read, no SELECT.
                let held = card.log.suffix(card.log.count - logLength)
                #expect(!held.contains(.verifyStatus(p2: 0x01)))
                #expect(!held.contains { if case .command(ins: 0xA4, _) = $0 { true } else { false } })
                #expect(card.commandCount - commands <= 3 * 3)
                #expect(Self.isHeld(daemon), "another connection reached the card during the hold")
                // C_GetTokenInfo's counter read does not end the hold: nobody else could have moved them.
                cards.refreshCounters(slot: slot.id)
                #expect(Self.isHeld(daemon))

                cards.logout(client: Self.alice, slot: slot.id)
                #expect(Self.resets(card) == resets + 1)
                #expect(try !daemon.cardIsVerified(), "the logout left the card verified")
            }
        }
    }

    @Test func anotherClientsOperationEndsTheHoldFirstAndVerifiesItsOwnPIN() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                try cards.loginUser(Self.bob, slot.id, generation: generation)
                for client in [Self.alice, Self.bob, Self.alice] {
                    let before = card.log.count
                    try cards.signWithAuthKey(client, slot.id, generation: generation)
                    let operation = Array(card.log.suffix(from: before))
                    // The other client's hold ends with a reset before anything is sent, then this client's
                    // counter check and its own VERIFY.
                    #expect(operation.first == .reset, "\(client)'s operation found another client's hold")
                    #expect(operation.filter { $0 == .command(ins: 0x20, p2: 0x01) }.count == 1)
                    #expect(operation.contains(.verifyStatus(p2: 0x01)))
                }
                // A random number is another kind of operation: it ends the hold too.
                let resets = Self.resets(card)
                _ = try cards.generateRandom(client: Self.alice, slot: slot.id, generation: generation, length: 8)
                #expect(Self.resets(card) == resets + 1)
                #expect(try !daemon.cardIsVerified())
            }
        }
    }

    @Test func theHoldEndsByItselfWithAReset() async throws {
        try await Daemon.run(verifiedHold: .milliseconds(300)) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            let resets = try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                return Self.resets(card)
            }
            // Nothing else happens: the reader's timer ends the hold.
            _ = try await eventually("the hold ended") { Self.resets(card) == resets + 1 ? true : nil }
            #expect(try !daemon.cardIsVerified())
            // The next signature verifies again, as after any reset.
            try await onThread {
                let verifies = Self.verifies(card)
                try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                #expect(Self.verifies(card) == verifies + 1)
            }
        }
    }

    @Test func aPINChangeEndsTheHoldAndTheOtherLogins() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                try cards.loginUser(Self.bob, slot.id, generation: generation)
                try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                try cards.changePIN(client: Self.bob, slot: slot.id, generation: generation, old: Codes.pin(), new: Codes.pin())
                #expect(try !daemon.cardIsVerified(), "the PIN change left the card verified")
                let commands = card.commandCount
                #expect(throws: TokenError(.notLoggedIn, "")) {
                    try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                }
                #expect(card.commandCount == commands, "Alice's old login reached the card")
            }
        }
    }

    /// A card that forgot the verification inside the hold (it cannot happen through PC/SC, which keeps
    /// everyone else out; a card may still lose its context): the hold ends and the operation verifies anew,
    /// once, under the kept-PIN rules.
    @Test func aCardThatForgotInTheHoldIsVerifiedAgainOnce() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                let forgot = Flag()
                card.onCommand { command in
                    if command.count > 1, command[1] == 0x22, forgot.setOnce() { card.reset() }
                }
                let verifies = Self.verifies(card)
                let signature = try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                #expect(signature.count == 256)
                #expect(forgot.isSet)
                #expect(Self.verifies(card) == verifies + 1)
            }
        }
    }

    @Test func aPINTypedForOneOperationIsNeverHeld() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.signWithAuthKey(Self.alice, slot.id, generation: generation, origin: .typedForThisOperation)
                #expect(try !daemon.cardIsVerified(), "the bridge's one-time PIN left the card verified")
            }
        }
    }

    @Test func sighupAndCardRemovalEndTheHold() async throws {
        try await Daemon.run(verifiedHold: Self.longHold) { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.loginUser(Self.alice, slot.id, generation: generation)
                #expect(Self.isHeld(daemon))
                cards.forgetVerification(slot: slot.id)
                #expect(try !daemon.cardIsVerified(), "SIGHUP left the card verified")
                try cards.signWithAuthKey(Self.alice, slot.id, generation: generation)
                #expect(Self.isHeld(daemon))
            }
            // Pulled while held: the new card is nobody's, verified for nobody.
            try daemon.backend.removeCard(from: Daemon.reader)
            let fresh = RecordingCard()
            try daemon.backend.insert(fresh, into: Daemon.reader)
            let next = try await daemon.token(in: Daemon.reader, notGeneration: generation)
            #expect(try !daemon.cardIsVerified())
            try await onThread {
                #expect(throws: TokenError(.notLoggedIn, "")) {
                    try cards.signWithAuthKey(Self.alice, slot.id, generation: next.token!.generation)
                }
            }
        }
    }
}

/// The calls these tests make, with the test PIN and the authentication key.
extension CardService {
    fileprivate func loginUser(_ client: ClientID, _ slot: SlotID, generation: UInt64) throws(TokenError) {
        try login(client: client, slot: slot, generation: generation, userType: .user, pin: Codes.pin())
    }

    @discardableResult
    fileprivate func signWithAuthKey(
        _ client: ClientID, _ slot: SlotID, generation: UInt64, origin: PINOrigin = .keptSinceLogin
    ) throws(TokenError) -> [UInt8] {
        try sign(
            client: client, slot: slot, generation: generation, request: VerifiedHoldTests.authSign, pin: Codes.pin(),
            origin: origin)
    }
}

/// Set once, read from any thread.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    /// True for the first caller only.
    func setOnce() -> Bool { value.withLock { was in defer { was = true }; return !was } }
}
