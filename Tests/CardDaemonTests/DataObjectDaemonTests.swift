import CardDaemon
import CardTestSupport
import PKCS11
import SmartCardCore
import Testing
@testable import VirtualCard

/// The CPS business data objects through the daemon (issue 12 item 1): public values read once at insertion,
/// private ones read in the login's own transaction (no VERIFY of their own) and shown only after it, and a
/// CPS_DATA write that updates the card and memory together under the kept-PIN rules.
@Suite struct DataObjectDaemonTests {
    static let client = ClientID(7)
    /// A VERIFY carrying a code (CPS3 reference 01, CPS4 81), not the data-less counter question.
    static func isVerify(_ entry: RecordingCard.Entry) -> Bool {
        if case .command(ins: 0x20, _) = entry { true } else { false }
    }
    static let states: [CardState] = [TestCards.defaultState, TestCards.cps4State()]

    static func withCard(
        _ state: CardState, _ body: @escaping @Sendable (Daemon, RecordingCard, SlotState, CPS3Card) throws -> Void
    ) async throws {
        try await Daemon.run { daemon in
            let simulator = TestCards.card(state)
            let card = RecordingCard(simulator)
            let slot = try await daemon.readerWithCard(card: card)
            try await onThread { try body(daemon, card, slot, simulator) }
        }
    }

    static func data(_ daemon: Daemon, _ slot: SlotState) -> [String: TokenDataObject] {
        let token = daemon.cards.slots().first { $0.id == slot.id }?.token
        return Dictionary(uniqueKeysWithValues: (token?.dataObjects ?? []).map { ($0.label, $0) })
    }

    @Test(arguments: states)
    func publicObjectsAtInsertionPrivateOnesRightAfterLoginWithoutAnotherVerify(state: CardState) async throws {
        try await Self.withCard(state) { daemon, card, slot, simulator in
            let expected = DataObjectTestValues.expected(simulator.state)
            let before = Self.data(daemon, slot)
            #expect(Set(before.keys) == ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS"])
            for (label, object) in before {
                #expect(object.value == expected[label], "\(label)")
                #expect(!object.isPrivate && object.isModifiable == (label == "CPS_DATA"))
            }
            let commandsBefore = card.commandCount
            // Answered from memory: no APDU for the public values.
            _ = Self.data(daemon, slot)
            #expect(card.commandCount == commandsBefore)

            try daemon.cards.login(
                client: Self.client, slot: slot.id, generation: slot.token!.generation, userType: .user,
                pin: Codes.pin())
            #expect(card.log.filter(Self.isVerify).count == 1, "one VERIFY: the login's own")
            // The reads happened in the login's transaction, before its reset.
            let resetAt = try #require(card.log.lastIndex(of: .reset))
            let verifyAt = try #require(card.log.lastIndex(where: Self.isVerify))
            #expect(verifyAt < resetAt)
            #expect(card.log[verifyAt..<resetAt].contains { $0 == .command(ins: 0xB0, p2: 0x00) })
            let after = Self.data(daemon, slot)
            for label in ["CPS_ACTIVITY_01_PS", "CPS2TER_ACTIVITY_01_PS", "CPS_SIT_FACT"] {
                let object = try #require(after[label], "\(label)")
                #expect(object.isPrivate && object.value == expected[label], "\(label)")
            }
            // A second login reads nothing more.
            let afterFirstLogin = card.log.count
            try daemon.cards.login(
                client: ClientID(8), slot: slot.id, generation: slot.token!.generation, userType: .user,
                pin: Codes.pin())
            #expect(!card.log.dropFirst(afterFirstLogin).contains { $0 == .command(ins: 0xB0, p2: 0x00) })
            #expect(!(try daemon.cardIsVerified()))
        }
    }

    /// A CPS3 that answers 6E00 to IAS after a CLA-A0 exchange: the login's CPS2ter reads come last and its
    /// transaction ends with a reset, so the next operation finds IAS working.
    @Test func aCardRefusingIASAfterCPS2terStillSignsAfterTheLogin() async throws {
        var state = TestCards.defaultState
        state.refusesIASAfterCPS2ter = true
        try await Self.withCard(state) { daemon, _, slot, _ in
            try daemon.cards.login(
                client: Self.client, slot: slot.id, generation: slot.token!.generation, userType: .user,
                pin: Codes.pin())
            #expect(Self.data(daemon, slot)["CPS_SIT_FACT"] != nil)
            let signature = try daemon.cards.sign(
                client: Self.client, slot: slot.id, generation: slot.token!.generation,
                request: KeptPINTests.authSign, pin: Codes.pin(), origin: .keptSinceLogin)
            #expect(signature.count == 256)
        }
    }

    @Test(arguments: states)
    func aCPSDataWriteGoesToTheCardAndToMemory(state: CardState) async throws {
        try await Self.withCard(state) { daemon, card, slot, simulator in
            let generation = slot.token!.generation
            let value = Array("ecrit par cpsd".utf8)
            let size = try #require(Self.data(daemon, slot)["CPS_DATA"]?.value.count)
            // Not logged in: no PIN to send, nothing sent.
            #expect(throws: TokenError.self) {
                try daemon.cards.writeData(
                    client: Self.client, slot: slot.id, generation: generation, label: "CPS_DATA", value: value,
                    pin: Codes.none(), origin: .keptSinceLogin)
            }
            try daemon.cards.login(
                client: Self.client, slot: slot.id, generation: generation, userType: .user, pin: Codes.pin())
            let verifies = card.log.filter(Self.isVerify).count
            try daemon.cards.writeData(
                client: Self.client, slot: slot.id, generation: generation, label: "CPS_DATA", value: value,
                pin: Codes.pin(), origin: .keptSinceLogin)
            let padded = value + [UInt8](repeating: 0, count: size - value.count)
            #expect(card.log.filter(Self.isVerify).count == verifies + 1, "one VERIFY for the write")
            #expect(simulator.state.cpsData == padded, "the card holds the new value")
            #expect(Self.data(daemon, slot)["CPS_DATA"]?.value == padded, "memory follows the card")
            #expect(!(try daemon.cardIsVerified()), "the write's transaction ended with a reset")
            // Other objects cannot be written, and nothing reaches the card for them.
            let commands = card.commandCount
            #expect(throws: TokenError.self) {
                try daemon.cards.writeData(
                    client: Self.client, slot: slot.id, generation: generation, label: "CPS_ID_CARD", value: value,
                    pin: Codes.pin(), origin: .keptSinceLogin)
            }
            #expect(card.commandCount == commands)
        }
    }
}

/// What the virtual card holds, by label.
enum DataObjectTestValues {
    static func expected(_ state: CardState) -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        let objects = state.cardGeneration == .cps4 ? CPS4Content.dataObjects(state) : BusinessData.objects(state)
        for object in objects { values[object.label] = object.content }
        if state.cardGeneration != .cps4 {
            let legacy = CPS2ter.files(state)
            values["CPS2TER_ACTIVITY_01_PS"] = legacy[CPS2ter.firstActivity]?.content
            values["CPS_SIT_FACT"] = legacy[CPS2ter.billingSituation]?.content
        }
        return values
    }
}
