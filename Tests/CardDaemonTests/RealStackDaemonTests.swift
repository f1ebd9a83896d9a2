import CardDaemon
import CardTestSupport
import PCSC
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualReaderStack

/// The daemon on the real stack: pcscd + vpcd + virtual CPS3 cards, through `PCSCBackend`.
@Suite("daemon on the real PC/SC stack")
struct RealStackDaemonTests {
    @Test("tokens appear, sign, and come back by themselves after pcscd restarts")
    func pcscdRestart() async throws {
        try await RealStack.withStack { stack in
            let logs = LogCapture()
            let registry = ReaderRegistry(backend: PCSCBackend(), logger: logs.logger)
            let cards = CardService(registry: registry, logger: logs.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await registry.run() }
                let name = stack.readerName(0)
                let before = try await eventually("a token in \(name)") {
                    cards.slots().first { $0.readerName == name && $0.token != nil }
                }
                let generation = before.token!.generation
                try await onThread {
                    try cards.login(
                        client: ClientID(1), slot: before.id, generation: generation, userType: .user, pin: Codes.pin())
                    let signature = try cards.sign(
                        client: ClientID(1), slot: before.id, generation: generation,
                        request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(), origin: .keptSinceLogin)
                    #expect(signature.count == 256)
                }

                stack.stack.stopPCSCD()
                _ = try await eventually("every slot gone") { cards.slots().isEmpty ? true : nil }
                try stack.stack.startPCSCD()
                let after = try await eventually("the token back") {
                    cards.slots().first { $0.readerName == name && $0.token != nil }
                }
                #expect(after.id == before.id)
                #expect(after.token!.generation != generation)
                try await onThread {
                    // The old generation is refused; the login was on the old card: a kept PIN is not sent to
                    // the new one, which signs after a new login.
                    #expect(throws: TokenError(.deviceRemoved, "")) {
                        try cards.generateRandom(client: ClientID(1), slot: after.id, generation: generation, length: 8)
                    }
                    #expect(throws: TokenError(.notLoggedIn, "")) {
                        try cards.sign(
                            client: ClientID(1), slot: after.id, generation: after.token!.generation,
                            request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(),
                            origin: .keptSinceLogin)
                    }
                    try cards.login(
                        client: ClientID(1), slot: after.id, generation: after.token!.generation, userType: .user,
                        pin: Codes.pin())
                    let signature = try cards.sign(
                        client: ClientID(1), slot: after.id, generation: after.token!.generation,
                        request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(), origin: .keptSinceLogin)
                    #expect(signature.count == 256)
                }
                group.cancelAll()
            }
        }
    }
}
