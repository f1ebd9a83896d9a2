import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

@Suite struct CardServiceTests {
    static let alice = ClientID(1)

    @Test func signatureKeyMechanisms() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                let requests: [SignatureRequest] = [
                    .rsaPKCS(role: .signature, input: sha256DigestInfo),
                    .rsaPKCS(role: .signature, input: [UInt8](repeating: 0x11, count: 20)),
                    SignatureRequest(role: .signature, mechanism: .sha256RSAPKCS, data: Array("a message to sign on the card".utf8)),
                    SignatureRequest(role: .signature, mechanism: .sha1RSAPKCS, data: [UInt8](repeating: 0x42, count: 200)),
                ]
                for request in requests {
                    let signature = try cards.sign(
                        client: Self.alice, slot: slot.id, generation: generation, request: request, pin: Codes.pin(), origin: .keptSinceLogin)
                    #expect(signature.count == 256)
                }
                // Input the signature key's CKM_RSA_PKCS cannot take (no digest, no DigestInfo): CKR_DATA_INVALID as
                // in Cryptolib (§7.2); beyond k-11 bytes the PKCS#11 layer answers CKR_DATA_LEN_RANGE (ANS 618).
                #expect(throws: TokenError(.dataInvalid, "")) {
                    try cards.sign(
                        client: Self.alice, slot: slot.id, generation: generation,
                        request: .rsaPKCS(role: .signature, input: [UInt8](repeating: 1, count: 50)), pin: Codes.pin(), origin: .keptSinceLogin)
                }
                #expect(throws: TokenError(.dataLengthRange, "")) {
                    try cards.sign(
                        client: Self.alice, slot: slot.id, generation: generation,
                        request: .rsaPKCS(role: .authentication, input: [UInt8](repeating: 1, count: 200)),
                        pin: Codes.pin(), origin: .keptSinceLogin)
                }
                let random = try cards.generateRandom(client: Self.alice, slot: slot.id, generation: generation, length: 33)
                #expect(random.count == 33)
            }
        }
    }

    @Test func cardRemovedDuringASignature() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let (cards, generation, backend) = (daemon.cards, slot.token!.generation, daemon.backend)
            card.onCommand { command in
                if command[1] == 0x22 { try? backend.removeCard(from: Daemon.reader) }  // at MSE SET
            }
            try await onThread {
                #expect(throws: TokenError(.deviceRemoved, "")) {
                    try cards.sign(
                        client: Self.alice, slot: slot.id, generation: generation,
                        request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(), origin: .typedForThisOperation)
                }
            }
            _ = try await eventually("the token gone") { cards.slots().first?.token == nil ? true : nil }
            try await onThread {
                #expect(throws: TokenError(.deviceRemoved, "")) {
                    try cards.generateRandom(client: Self.alice, slot: slot.id, generation: generation, length: 8)
                }
            }
            #expect(daemon.logs.lines.contains { $0.metadata["audit"] == "signature" && $0.metadata["result"] == "deviceRemoved" })
        }
    }

    @Test func changePINThenLoginWithTheNewOne() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            let newPIN: [UInt8] = [0x35, 0x36, 0x37, 0x38]
            try await onThread {
                #expect(throws: TokenError(.pinIncorrect, "", triesLeft: 2)) {
                    try cards.changePIN(
                        client: Self.alice, slot: slot.id, generation: generation, old: Codes.wrongPIN(),
                        new: Codes.secret(newPIN))
                }
                #expect(cards.slots().first?.token?.pin.triesLeft == 2)
                try cards.changePIN(
                    client: Self.alice, slot: slot.id, generation: generation, old: Codes.pin(), new: Codes.secret(newPIN))
                #expect(cards.slots().first?.token?.pin.triesLeft == 3)
                #expect(try !daemon.cardIsVerified())
                try cards.login(
                    client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.secret(newPIN))
                #expect(cards.slots().first?.token?.pin.triesLeft == 3, "the new PIN was accepted")
                #expect(try !daemon.cardIsVerified())
            }
        }
    }

    @Test func soLoginVerifiesThePUK() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            try await onThread {
                #expect(throws: TokenError(.pinIncorrect, "")) {
                    try cards.login(
                        client: Self.alice, slot: slot.id, generation: generation, userType: .securityOfficer,
                        pin: Codes.secret([0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30]))
                }
                #expect(cards.slots().first?.token?.puk.triesLeft == 2)
                try cards.login(
                    client: Self.alice, slot: slot.id, generation: generation, userType: .securityOfficer, pin: Codes.puk())
                #expect(cards.slots().first?.token?.puk.triesLeft == cards.slots().first?.token?.puk.maxTries)
            }
        }
    }

    @Test func auditLineForEverySignatureAndNoSecretInTheLogs() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let (cards, generation) = (daemon.cards, slot.token!.generation)
            cards.setPeer(PeerInfo(pid: 4242, uid: 1000, gid: 1000, executable: "/usr/bin/firefox-esr"), for: Self.alice)
            try await onThread {
                try cards.login(client: Self.alice, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
                _ = try cards.sign(
                    client: Self.alice, slot: slot.id, generation: generation,
                    request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(), origin: .keptSinceLogin)
                _ = try? cards.sign(
                    client: Self.alice, slot: slot.id, generation: generation,
                    request: .rsaPKCS(role: .signature, input: [1, 2, 3]), pin: Codes.pin(), origin: .keptSinceLogin)
            }
            let audits = daemon.logs.lines.filter { $0.metadata["audit"] == "signature" }
            #expect(audits.count == 2)
            #expect(audits.first?.metadata["peer_pid"] == "4242")
            #expect(audits.first?.metadata["peer_uid"] == "1000")
            #expect(audits.first?.metadata["peer_exe"] == "/usr/bin/firefox-esr")
            #expect(audits.first?.metadata["key"] == "CPS_PRIV_AUT")
            #expect(audits.first?.metadata["mechanism"] == "CKM_RSA_PKCS")
            #expect(audits.first?.metadata["result"] == "ok")
            #expect(audits.first?.metadata["duration_ms"] != nil)
            #expect(audits.last?.metadata["result"] == "dataInvalid")
            let pinText = String(decoding: TestCards.pin, as: UTF8.self)
            for line in daemon.logs.lines {
                #expect(!line.message.contains(pinText))
                #expect(!line.metadata.values.contains { $0.contains(pinText) })
            }
        }
    }
}
