import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// A card blocked by wrong PINs stays blocked after its process restarts: the state directory is the
/// card's memory, written before each answer.
@Suite("Card state persistence")
struct PersistenceTests {
    @Test("three wrong PINs, a restart from the state directory, and the card is still blocked")
    func blockedPINSurvivesRestart() throws {
        let directory = TestCards.temporaryDirectory("cpsd-persist")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = CardStore(directory: directory)
        try store.initialize(TestCards.defaultState)
        let card = CPS3Card(state: try store.load()) { try? store.save($0) }
        card.powerOn()
        let verifyWrong: [UInt8] = [0x00, 0x20, 0x00, 0x01, 0x04, 0x39, 0x39, 0x39, 0x39]
        #expect(card.process(verifyWrong) == [0x63, 0xC2])
        #expect(card.process(verifyWrong) == [0x63, 0xC1])
        #expect(card.process(verifyWrong) == [0x69, 0x83])

        let restarted = CPS3Card(state: try store.load()) { try? store.save($0) }
        restarted.powerOn()
        let verifyRight: [UInt8] = [0x00, 0x20, 0x00, 0x01, 0x04] + TestCards.pin
        #expect(restarted.process(verifyRight) == [0x69, 0x83])
        #expect(try store.load().pin.triesLeft == 0)
    }
}
