@testable import CardDaemon
import CardTestSupport
import PKCS11
import PKCS11Constants
import SmartCardCore
import Testing
import VirtualCard

@Suite struct RegistryTests {
    @Test func readersAndCardsComeAndGo() async throws {
        try await Daemon.run { daemon in
            daemon.backend.plugReader(Daemon.reader)
            daemon.backend.plugReader(Daemon.otherReader)
            let slots = try await eventually("two readers") { daemon.cards.slots().count == 2 ? daemon.cards.slots() : nil }
            #expect(slots.map(\.readerName) == [Daemon.reader, Daemon.otherReader])
            #expect(slots.allSatisfy { $0.token == nil })

            try daemon.backend.insert(RecordingCard(), into: Daemon.otherReader)
            let slot = try await daemon.token(in: Daemon.otherReader)
            #expect(slot.id == slots[1].id)
            #expect(slot.token?.label.hasPrefix("CPS3v3-") == true)
            #expect(slot.token?.privateKeys.map(\.label).sorted() == ["CPS_PRIV_AUT", "CPS_PRIV_SIG"])
            #expect(slot.token?.certificates.count == 2)
            #expect(slot.token?.pin == TokenCounters(triesLeft: 3, maxTries: 3))

            try daemon.backend.removeCard(from: Daemon.otherReader)
            _ = try await eventually("the token gone") {
                daemon.cards.slots().first { $0.id == slot.id && $0.token == nil }
            }
            #expect(daemon.summary(of: Daemon.otherReader)?.condition == .empty)
        }
    }

    @Test func unpluggedReaderDisappearsAndKeepsItsSlotID() async throws {
        try await Daemon.run { daemon in
            let first = try await daemon.readerWithCard()
            let cursor = daemon.cards.slotEvents(after: 0).cursor
            daemon.backend.unplugReader(Daemon.reader)
            _ = try await eventually("no slot") { daemon.cards.slots().isEmpty ? true : nil }
            let events = daemon.cards.slotEvents(after: cursor)
            #expect(events.slots == [first.id])
            #expect(events.cursor > cursor)
            #expect(daemon.cards.slotEvents(after: events.cursor).slots.isEmpty)

            // Operations on the vanished slot fail without touching anything.
            #expect(throws: TokenError(.slotInvalid, "")) {
                try daemon.cards.login(
                    client: ClientID(1), slot: first.id, generation: first.token!.generation, userType: .user,
                    pin: Codes.pin())
            }

            daemon.backend.plugReader(Daemon.reader)
            try daemon.backend.insert(RecordingCard(), into: Daemon.reader)
            let again = try await daemon.token(in: Daemon.reader)
            #expect(again.id == first.id)
            #expect(again.token!.generation != first.token!.generation)
        }
    }

    @Test func cardIsReadOnceAndSlotsAnswerFromMemory() async throws {
        try await Daemon.run { daemon in
            let card = RecordingCard()
            let slot = try await daemon.readerWithCard(card: card)
            let afterRead = card.commandCount
            #expect(afterRead > 0)
            for _ in 0..<50 {
                #expect(daemon.cards.slots() == [slot])
                _ = daemon.cards.slotEvents(after: 0)
            }
            #expect(card.commandCount == afterRead)
        }
    }

    @Test func foreignCardGivesNoTokenAndSaysWhy() async throws {
        try await Daemon.run { daemon in
            daemon.backend.plugReader(Daemon.reader)
            try daemon.backend.insert(ForeignCard(), into: Daemon.reader)
            let summary = try await eventually("the card refused") {
                daemon.summary(of: Daemon.reader).flatMap { if case .failed = $0.condition { $0 } else { nil } }
            }
            #expect(summary.token == nil)
            #expect(summary.condition.description.contains("not supported"))
            #expect(daemon.cards.slots().first?.token == nil)
        }
    }

    @Test func cardRemovedWhileBeingReadThenReinserted() async throws {
        try await Daemon.run { daemon in
            let backend = daemon.backend
            let card = RecordingCard()
            card.onCommand { command in
                // Pulled at the first READ BINARY of a file of the application.
                if command[1] == 0xB0, command[2] == 0x00 { try? backend.removeCard(from: Daemon.reader) }
            }
            daemon.backend.plugReader(Daemon.reader)
            try daemon.backend.insert(card, into: Daemon.reader)
            _ = try await eventually("the failed read") {
                daemon.logs.lines.contains { $0.message == "card not read" } ? true : nil
            }
            _ = try await eventually("the reader empty after the failed read") {
                daemon.summary(of: Daemon.reader)?.condition == .empty ? true : nil
            }
            #expect(daemon.cards.slots().first?.token == nil)

            try daemon.backend.insert(RecordingCard(), into: Daemon.reader)
            let slot = try await daemon.token(in: Daemon.reader)
            let random = try await onThread { [cards = daemon.cards] in
                try cards.generateRandom(client: ClientID(1), slot: slot.id, generation: slot.token!.generation, length: 20)
            }
            #expect(random.count == 20)
        }
    }

    @Test func reinsertionGivesANewGenerationAndTheOldOneIsRemoved() async throws {
        try await Daemon.run { daemon in
            let old = try await daemon.readerWithCard()
            try daemon.backend.removeCard(from: Daemon.reader)
            try daemon.backend.insert(RecordingCard(), into: Daemon.reader)
            let new = try await daemon.token(in: Daemon.reader, notGeneration: old.token!.generation)
            #expect(new.id == old.id)
            let cards = daemon.cards
            try await onThread {
                #expect(throws: TokenError(.deviceRemoved, "")) {
                    try cards.login(
                        client: ClientID(1), slot: old.id, generation: old.token!.generation, userType: .user,
                        pin: Codes.pin())
                }
                try cards.login(
                    client: ClientID(1), slot: new.id, generation: new.token!.generation, userType: .user, pin: Codes.pin())
                let signature = try cards.sign(
                    client: ClientID(1), slot: new.id, generation: new.token!.generation,
                    request: .rsaPKCS(role: .authentication, input: sha256DigestInfo), pin: Codes.pin(), origin: .keptSinceLogin)
                #expect(signature.count == 256)
            }
        }
    }
}

/// Retired reader actors are released, and with them their threads.
@Suite struct ReaderLifetimeTests {
    final class WeakReader: @unchecked Sendable {
        weak var reader: ReaderActor?
    }

    @Test func unpluggedReaderActorIsReleased() async throws {
        try await Daemon.run { daemon in
            let slot = try await daemon.readerWithCard()
            let weak = WeakReader()
            weak.reader = daemon.registry.table.reader(for: slot.id)
            #expect(weak.reader != nil)
            daemon.backend.unplugReader(Daemon.reader)
            _ = try await eventually("the reader actor released") { weak.reader == nil ? true : nil }
        }
    }
}
