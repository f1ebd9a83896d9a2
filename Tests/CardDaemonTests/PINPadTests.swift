import CardDaemon
import CardTestSupport
import Foundation
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// A PIN-pad reader (FEATURE_VERIFY_PIN_DIRECT), simulated by the virtual backend: the token says
/// CKF_PROTECTED_AUTHENTICATION_PATH, a login without a code has the person type it on the reader, and the
/// reader is asked again for each operation (cpsd keeps no code it never saw). A refusal is reported once and
/// never retried; a cancelled entry or a length the reader refuses costs no try.
@Suite struct PINPadTests {
    static let alice = ClientID(1)
    static let authSign = SignatureRequest.rsaPKCS(role: .authentication, input: sha256DigestInfo)

    /// What the person types, one entry per time the reader asks; records how often it asked.
    final class Keypad: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [[UInt8]?]
        private(set) var asked = 0
        init(_ entries: [[UInt8]?]) { self.entries = entries }
        func type(_ verify: PINPadVerify) -> [UInt8]? {
            lock.withLock {
                asked += 1
                return entries.isEmpty ? nil : entries.removeFirst()
            }
        }
        var timesAsked: Int { lock.withLock { asked } }
    }

    static func withPINPad(_ keypad: Keypad, _ body: @escaping @Sendable (Daemon, SlotState, RecordingCard) throws -> Void) async throws {
        try await Daemon.run { daemon in
            daemon.backend.plugReader(Daemon.reader)
            daemon.backend.setPINPad(Daemon.reader) { keypad.type($0) }
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            try await onThread { try body(daemon, slot, card) }
        }
    }

    @Test func loginAndEachSignatureTakeTheCodeOnTheReader() async throws {
        let keypad = Keypad([TestCards.pin, TestCards.pin])
        try await Self.withPINPad(keypad) { daemon, slot, card in
            #expect(slot.token?.protectedAuthenticationPath == true)
            let generation = slot.token!.generation
            try daemon.cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.none())
            #expect(keypad.timesAsked == 1)
            #expect(try !daemon.cardIsVerified(), "the login left the card verified")
            let signature = try daemon.cards.sign(
                client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.none(),
                origin: .keptSinceLogin)
            #expect(signature.count == 256)
            #expect(keypad.timesAsked == 2, "the signature did not ask the reader")
            #expect(try !daemon.cardIsVerified())
        }
    }

    @Test func aWrongCodeOnThePadIsReportedOnceAndNeverRetried() async throws {
        let keypad = Keypad([[0x39, 0x39, 0x39, 0x39], TestCards.pin])
        try await Self.withPINPad(keypad) { daemon, slot, _ in
            let generation = slot.token!.generation
            #expect(throws: TokenError(.pinIncorrect, "")) {
                try daemon.cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.none())
            }
            #expect(keypad.timesAsked == 1)
            #expect(daemon.cards.slots().first?.token?.pin.triesLeft == 2)
        }
    }

    @Test func cancelledOrRefusedEntryCostsNoTry() async throws {
        let keypad = Keypad([nil, [0x31, 0x32]])
        try await Self.withPINPad(keypad) { daemon, slot, _ in
            let generation = slot.token!.generation
            let login = { try daemon.cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.none()) }
            #expect(throws: TokenError(.cancelled, "")) { try login() }
            // Two digits: the reader itself refuses the length (6403), nothing reaches the card.
            #expect(throws: TokenError(.pinInvalid, "")) { try login() }
            #expect(daemon.cards.slots().first?.token?.pin.triesLeft == 3)
        }
    }

    @Test func withoutAPINPadNoFlagAndAnEmptyCodeNeverReachesTheCard() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            #expect(slot.token?.protectedAuthenticationPath == false)
            try await onThread {
                let commands = card.commandCount
                #expect(throws: TokenError(.pinLengthRange, "")) {
                    try daemon.cards.login(
                        client: Self.alice, slot: slot.id, generation: slot.token!.generation, userType: .user, pin: Codes.none())
                }
                #expect(card.commandCount == commands)
            }
        }
    }
}
