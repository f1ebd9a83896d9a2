import CardTestSupport
import PCSC
import SmartCardCore
import Testing
import VirtualCard

@testable import Diagnostics

/// pcscd.reachable, readers.* and card.*, on the in-process virtual backend and a fake machine.
@Suite("diag: pcscd, readers and card")
struct PCSCCheckTests {
    static let reader = "Fake CCID Reader 00 00"

    @Test("pcscd stopped: fail with its missing socket, and every reader and card check skipped for that reason")
    func pcscdStopped() async throws {
        var fixture = DiagFixture()
        fixture.readers.listingError = CardError(.serviceUnavailable, "SCARD_E_NO_SERVICE")
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        await runner.cardChecks()
        let pcscd = try #require(runner.check("pcscd.reachable"))
        #expect(pcscd.status == .fail)
        #expect(pcscd.finding.contains("\(DiagFixture.pcscdSocket) is missing"))
        #expect(pcscd.remedy == "sudo systemctl start pcscd.socket (package pcscd)")
        #expect(runner.readers == nil)
        for id in ["readers.present", "readers.pinpad", "readers.clients", "card.present", "pin.tries"] {
            let check = try #require(runner.check(id))
            #expect(check.status == .skip, "\(id)")
            #expect(check.finding.hasPrefix("pcscd is not reachable"), "\(id): \(check.finding)")
        }
    }

    @Test("pcscd accepting connections but dropping this one: a polkit refusal, with its remedy")
    func pcscdRefusesThisClient() throws {
        var fixture = DiagFixture()
        fixture.readers.listingError = CardError(.serviceUnavailable, "SCARD_E_NO_SERVICE")
        fixture.sockets.serve(DiagFixture.pcscdSocket, pid: 90, uid: 0)
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        let pcscd = try #require(runner.check("pcscd.reachable"))
        #expect(pcscd.status == .fail)
        #expect(pcscd.finding.contains("dropped this one unanswered"))
        #expect(pcscd.remedy == DiagRunner.polkitRemedy)
        #expect(runner.check("readers.present")?.finding.hasPrefix("pcscd refused this client (polkit?)") == true)
    }

    @Test("pcscd without readers: it answers, no reader is a failure pointing to e-CPS, the card is skipped")
    func noReaders() async throws {
        let fixture = DiagFixture()
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        await runner.cardChecks()
        #expect(runner.check("pcscd.reachable")?.status == .ok)
        #expect(runner.check("pcscd.reachable")?.finding == "pcscd answers (no reader)")
        let present = try #require(runner.check("readers.present"))
        #expect(present.status == .fail)
        #expect(present.finding.contains("e-CPS"))
        #expect(runner.check("readers.pinpad")?.status == .skip)
        #expect(runner.check("card.present")?.status == .skip)
        #expect(runner.check("card.present")?.finding == "no reader, so no card")
    }

    @Test("a reader without a card: card.present fails naming it, the rest of the card is skipped")
    func readerWithoutCard() async throws {
        var fixture = DiagFixture()
        fixture.readers.features[Self.reader] = ReaderFeatures()
        fixture.readers.backend.plugReader(Self.reader)
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        await runner.cardChecks()
        #expect(runner.check("readers.present")?.status == .ok)
        #expect(runner.check("readers.pinpad")?.finding == "\"\(Self.reader)\": no PIN pad, the PIN is typed on the computer")
        let card = try #require(runner.check("card.present"))
        #expect(card.status == .fail)
        #expect(card.finding == "no card in \"\(Self.reader)\"")
        #expect(card.remedy?.hasPrefix("Insert the CPS card") == true)
        #expect(runner.check("card.kind")?.status == .skip)
    }

    @Test("a reader with a CPS3 card: read in place, kind, holder and counters reported")
    func readerWithCard() async throws {
        var fixture = DiagFixture()
        fixture.readers.features[Self.reader] = ReaderFeatures(controlCodes: [ReaderFeatures.Feature.verifyPINDirect.rawValue: 0x4234_0006])
        fixture.readers.backend.plugReader(Self.reader)
        try fixture.readers.backend.insert(TestCards.card(), into: Self.reader)
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        await runner.cardChecks()
        #expect(runner.check("pcscd.reachable")?.finding == "pcscd answers (1 reader(s))")
        #expect(runner.check("readers.present")?.finding == "1 reader(s): \"\(Self.reader)\" (card)")
        #expect(runner.check("readers.pinpad")?.finding.contains("PIN pad (") == true)
        #expect(runner.check("card.present")?.status == .ok)
        let kind = try #require(runner.check("card.kind"))
        #expect(kind.status == .ok)
        #expect(kind.finding.contains("CPS3"))
        #expect(runner.check("card.identity")?.status == .ok)
        #expect(runner.identity != nil)
        #expect(runner.check("pin.tries")?.status == .ok)
        #expect(runner.check("pin.tries")?.finding == "PIN 3 of 3 tries left")
        // No IGC-Santé root in an empty trust store: the chain check must say so.
        #expect(runner.check("certificates.chain")?.status == .fail)
    }

    @Test("a reader that cannot be asked for its features: a warning pointing to readers.clients")
    func pinPadUnreadable() throws {
        let fixture = DiagFixture()
        fixture.readers.backend.plugReader(Self.reader)
        let runner = fixture.runner()
        runner.pcscdChecks()
        runner.readerChecks()
        let pinpad = try #require(runner.check("readers.pinpad"))
        #expect(pinpad.status == .warn)
        #expect(pinpad.finding.contains("held exclusively by another program"))
    }
}
