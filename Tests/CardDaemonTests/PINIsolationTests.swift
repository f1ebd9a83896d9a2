import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

/// DESIGN decision 3: the card's verified state never leaks from one client to another.
@Suite struct PINIsolationTests {
    static let alice = ClientID(1)
    static let bob = ClientID(2)
    static let carol = ClientID(3)
    static let authSign = SignatureRequest.rsaPKCS(role: .authentication, input: sha256DigestInfo)

    @Test func wrongPINSpendsExactlyOneTry() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                let before = card.commandCount
                do throws(TokenError) {
                    try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.wrongPIN())
                    Issue.record("a wrong PIN was accepted")
                } catch {
                    #expect(error.code == .pinIncorrect)
                    #expect(error.triesLeft == 2)
                }
                #expect(card.log.filter { $0 == .command(ins: 0x20, p2: 0x01) }.count == 1)
                #expect(card.commandCount == before + 1)
                #expect(cards.slots().first?.token?.pin == TokenCounters(triesLeft: 2, maxTries: 3))

                // A malformed PIN never reaches the card.
                #expect(throws: TokenError(.pinLengthRange, "")) {
                    try cards.login(
                        client: Self.alice, slot: slot.id, generation: generation, userType: .user,
                        pin: Codes.secret([0x31, 0x32]))
                }
                #expect(throws: TokenError(.pinInvalid, "")) {
                    try cards.login(
                        client: Self.alice, slot: slot.id, generation: generation, userType: .user,
                        pin: Codes.secret([0x31, 0x32, 0x33, 0x41]))
                }
                #expect(card.commandCount == before + 1)

                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                #expect(cards.slots().first?.token?.pin == TokenCounters(triesLeft: 3, maxTries: 3))
            }
        }
    }

    @Test func blockedPINThenUnblockUpdatesCounters() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                for expected in [2, 1] {
                    #expect(throws: TokenError(.pinIncorrect, "", triesLeft: expected)) {
                        try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.wrongPIN())
                    }
                }
                #expect(throws: TokenError(.pinLocked, "")) {
                    try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.wrongPIN())
                }
                #expect(cards.slots().first?.token?.pin.triesLeft == 0)
                try cards.unblockPIN(
                    client: Self.alice, slot: slot.id, generation: generation, puk: Codes.puk(), newPIN: Codes.pin())
                #expect(cards.slots().first?.token?.pin == TokenCounters(triesLeft: 3, maxTries: 3))
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
            }
            // Neither the PUK verification nor Alice's login outlive their operations.
            #expect(try !daemon.cardIsVerified())
            #expect(try !daemon.cardIsVerified(reference: 0x02))
        }
    }

    @Test func alternateClientsEachVerifyAndOthersNeverFindTheCardVerified() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                try cards.login(client: Self.bob, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                for round in 0..<3 {
                    for client in [Self.alice, Self.bob] {
                        let verifies = card.log.filter { $0 == .command(ins: 0x20, p2: 0x01) }.count
                        let signature = try cards.sign(
                            client: client, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(), origin: .keptSinceLogin)
                        #expect(signature.count == 256)
                        let verifiesNow = card.log.filter { $0 == .command(ins: 0x20, p2: 0x01) }.count
                        #expect(verifiesNow == verifies + 1, "round \(round), \(client) verified its PIN once")
                        #expect(try !daemon.cardIsVerified(), "the card was left verified after \(client)'s signature")
                    }
                }
                // Carol never logged in: before her operation the card is reset.
                _ = try cards.generateRandom(client: Self.carol, slot: slot.id, generation: generation, length: 8)
                #expect(try !daemon.cardIsVerified())
                #expect(throws: TokenError(.notLoggedIn, "")) {
                    try cards.sign(
                        client: Self.carol, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.none(), origin: .keptSinceLogin)
                }
                #expect(try !daemon.cardIsVerified())
            }
        }
    }

    @Test func theCardIsNeverLeftVerifiedBetweenOperations() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                let resets = card.log.filter { $0 == .reset }.count
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                #expect(try !daemon.cardIsVerified(), "C_Login left the card verified")
                #expect(card.log.filter { $0 == .reset }.count == resets + 1)
                let signature = try cards.sign(
                    client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(),
                    origin: .keptSinceLogin)
                #expect(signature.count == 256)
                #expect(try !daemon.cardIsVerified(), "a signature left the card verified")

                // An SO login verifies the PUK and resets it too.
                try cards.login(
                    client: Self.bob, slot: slot.id, generation: generation, userType: .securityOfficer, pin: Codes.puk())
                #expect(try !daemon.cardIsVerified(reference: 0x02), "the SO login left the PUK verified")

                // Logout, end of client and SIGHUP send nothing more: there is nothing to forget.
                let commands = card.commandCount
                cards.logout(client: Self.alice, slot: slot.id)
                cards.clientEnded(Self.bob)
                cards.forgetVerification(slot: slot.id)
                #expect(card.commandCount == commands)
                #expect(throws: TokenError(.notLoggedIn, "")) {
                    try cards.sign(
                        client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign,
                        pin: Codes.pin(), origin: .keptSinceLogin)
                }
                #expect(card.commandCount == commands, "a kept PIN was sent after logout")
            }
        }
    }

    /// Another middleware's login (Cryptolib keeps the card verified until a reset, and takes a reset for a
    /// card swap): cpsd's signature leaves the card as it found it, verified, and resets it again only once
    /// it finds it unverified. cpsd never leaves the card more verified than it found it.
    @Test func aCardFoundVerifiedIsLeftAsFound() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                // Another middleware logs in behind cpsd's back.
                let verify = [0x00, 0x20, 0x00, 0x01, 0x04] + TestCards.pin
                #expect(try daemon.sendBehindTheDaemon([verify]) == [0x90, 0x00])
                let resets = card.log.filter { $0 == .reset }.count
                let signature = try cards.sign(
                    client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(),
                    origin: .keptSinceLogin)
                #expect(signature.count == 256)
                #expect(card.log.filter { $0 == .reset }.count == resets, "the other middleware's login was reset")
                #expect(try daemon.cardIsVerified(), "the card was verified when cpsd came: it stays so")
                // Once the other middleware's state is gone (a reset, a new card session), cpsd resets again.
                try daemon.resetBehindTheDaemon()
                _ = try cards.sign(
                    client: Self.alice, slot: slot.id, generation: generation, request: Self.authSign, pin: Codes.pin(),
                    origin: .keptSinceLogin)
                #expect(try !daemon.cardIsVerified(), "a card cpsd found unverified was left verified")
            }
        }
    }

    @Test func concurrentSignsNeverInterleave() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            let clients = (10..<14).map { ClientID($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients {
                    group.addTask {
                        try await onThread {
                            try cards.login(client: client, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                            for _ in 0..<3 {
                                let signature = try cards.sign(
                                    client: client, slot: slot.id, generation: generation, request: Self.authSign,
                                    pin: Codes.pin(), origin: .keptSinceLogin)
                                #expect(signature.count == 256)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Every INTERNAL AUTHENTICATE directly follows its MSE SET AT, and every stretch between two
            // resets that signs starts with a VERIFY: no client signed on another's verification.
            let log = card.log
            var verifiedSinceReset = false
            var signatures = 0
            for (index, entry) in log.enumerated() {
                switch entry {
                case .reset: verifiedSinceReset = false
                case .command(ins: 0x20, p2: 0x01): verifiedSinceReset = true
                case .command(ins: 0x88, _):
                    signatures += 1
                    #expect(verifiedSinceReset)
                    #expect(log[index - 1] == .command(ins: 0x22, p2: 0xA4))
                default: break
                }
            }
            #expect(signatures == clients.count * 3)
        }
    }
}
