import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard
import VirtualReaderStack

/// `cpsctl diag` on the real stack: pcscd, readers, card, certificates and PIN/PUK in each state. No
/// run may change a counter of any card.
@Suite("cpsctl diag: pcscd, card, certificates, PIN")
struct DiagCardTests {
    @Test("healthy stack, cpsd not running: card checks ok, cpsd warns, exit 1")
    func healthy() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let before = DiagRun.counters(stack)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            #expect(run.json["schema"] as? String == "cpsd-diag/1")
            for id in [
                "system.os", "system.cpsctl", "pcscd.reachable", "readers.present", "card.present", "card.kind",
                "card.identity", "certificates.validity", "certificates.chain", "pin.tries", "pin.unblock",
            ] {
                #expect(run.status(id) == "ok", "\(id): \(run.finding(id))")
            }
            let holder = TestCards.defaultState.holder
            #expect(run.finding("card.identity").contains(holder.surname))
            #expect(run.finding("card.identity").contains("CPS"))
            #expect(run.finding("card.kind").contains("CPS3"))
            #expect(run.finding("certificates.chain").contains("TEST"))
            #expect(run.finding("pin.tries").contains("3 of 3"))
            #expect(run.status("cpsd.running") == "warn")
            #expect(run.remedy("cpsd.running").contains("systemctl --user enable --now cpsd.socket"))
            #expect(run.status("browsers.module") == "skip")
            #expect(run.status("bridge.listening") == "skip")
            #expect(run.finding("bridge.listening").contains("cpsd is not running"))
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.summary["exitStatus"] as? Int == 1)
            #expect(DiagRun.counters(stack) == before)

            // Plain text off a terminal: symbols, no colour codes.
            let text = try ToolRunner.run(
                DiagRun.cpsctl, ["diag", "--reader", stack.readerName(0)], environment: stack.environment.merging(DiagRun.home().1) { $1 })
            #expect(text.stdout.contains("✔ card.kind"))
            #expect(text.stdout.contains("⚠ cpsd.running"))
            #expect(!text.stdout.contains("\u{1B}["))
        }
    }

    @Test("pcscd stopped: pcscd fails, reader and card checks skip with the reason, exit 2")
    func pcscdStopped() async throws {
        try await RealStack.withStack { stack in
            stack.stack.stopPCSCD()
            defer { try? stack.stack.startPCSCD() }
            let run = try DiagRun.run(stack, [])
            #expect(run.status("pcscd.reachable") == "fail")
            #expect(run.finding("pcscd.reachable").contains("not reachable"))
            #expect(run.remedy("pcscd.reachable").contains("pcscd"))
            for id in ["readers.present", "card.present", "card.kind", "certificates.validity", "pin.tries"] {
                #expect(run.status(id) == "skip", "\(id)")
                #expect(run.finding(id).contains("pcscd"), "\(id): \(run.finding(id))")
            }
            #expect(run.status == 2)
        }
    }

    @Test("no card in any reader: card fails, exit 2")
    func noCard() async throws {
        try await RealStack.withStack { stack in
            try stack.removeCard(reader: 0)
            try stack.removeCard(reader: 1)
            let run = try DiagRun.run(stack, [])
            #expect(run.status("readers.present") == "ok")
            #expect(run.status("card.present") == "fail")
            #expect(run.remedy("card.present").contains("Insert"))
            #expect(run.status("pin.tries") == "skip")
            #expect(run.status == 2)
        }
    }

    @Test("a card that is not a CPS: card.kind fails with \"unknown\"")
    func unknownCard() async throws {
        try await RealStack.withStack { stack in
            stack.stack.removeCard(reader: 0)
            try stack.waitForPresence(reader: 0, present: false)
            stack.stack.insertCard(ForeignCard(), reader: 0)
            try stack.waitForPresence(reader: 0, present: true)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            #expect(run.status("card.present") == "ok")
            #expect(run.status("card.kind") == "fail")
            #expect(run.finding("card.kind").contains("unknown"))
            #expect(run.finding("card.kind").contains("3B 95 13 81"))
            #expect(run.status("certificates.validity") == "skip")
            #expect(run.status == 2)
            try stack.insertFreshCard(reader: 0)
        }
    }

    @Test("expired certificates fail; soon-expiring ones warn within --expiry-warning-days")
    func certificateExpiry() async throws {
        try await RealStack.withStack { stack in
            let day: TimeInterval = 86_400
            var expired = CardProvisioningOptions()
            expired.notBefore = Date().addingTimeInterval(-400 * day)
            expired.notAfter = Date().addingTimeInterval(-2 * day)
            try stack.insertFreshCard(try TestCards.makeState(expired), reader: 0)
            let old = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            #expect(old.status("certificates.validity") == "fail")
            #expect(old.finding("certificates.validity").contains("EXPIRED"))
            #expect(old.status == 2)

            var soon = CardProvisioningOptions()
            soon.notAfter = Date().addingTimeInterval(10 * day)
            try stack.insertFreshCard(try TestCards.makeState(soon), reader: 0)
            let warned = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            #expect(warned.status("certificates.validity") == "warn")
            #expect(warned.finding("certificates.validity").contains("expires in"))
            let quiet = try DiagRun.run(stack, ["--reader", stack.readerName(0), "--expiry-warning-days", "5"])
            #expect(quiet.status("certificates.validity") == "ok")
        }
    }

    struct PINCase: Sendable, CustomTestStringConvertible {
        let name: String
        let pin: Int, puk: Int, unblocks: Int?
        let check: String, status: String, remedy: String
        var testDescription: String { name }
    }

    @Test(
        "PIN and PUK counters, read without VERIFY",
        arguments: [
            PINCase(name: "one try left", pin: 1, puk: 3, unblocks: nil, check: "pin.tries", status: "warn", remedy: "PUK"),
            PINCase(name: "PIN blocked", pin: 0, puk: 3, unblocks: nil, check: "pin.tries", status: "fail", remedy: "cpsctl pin unblock"),
            PINCase(name: "card blocked (PUK)", pin: 0, puk: 0, unblocks: nil, check: "pin.tries", status: "fail", remedy: "0 809 40 00 82"),
            PINCase(name: "card blocked (no unblock)", pin: 0, puk: 3, unblocks: 0, check: "pin.tries", status: "fail", remedy: "monserviceclient.cartes@esante.gouv.fr"),
            PINCase(name: "PUK blocked", pin: 3, puk: 0, unblocks: nil, check: "pin.unblock", status: "fail", remedy: "0 809 40 00 82"),
        ])
    func pinStates(_ testCase: PINCase) async throws {
        try await RealStack.withStack { stack in
            var options = CardProvisioningOptions()
            options.pinTriesLeft = testCase.pin
            options.pukTriesLeft = testCase.puk
            options.unblocksLeft = testCase.unblocks
            try stack.insertFreshCard(try TestCards.makeState(options), reader: 1)
            let before = DiagRun.counters(stack)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(1)])
            #expect(run.status(testCase.check) == testCase.status, "\(run.finding(testCase.check))")
            #expect(run.remedy(testCase.check).contains(testCase.remedy), "\(run.remedy(testCase.check))")
            #expect(run.status == (testCase.status == "fail" ? 2 : 1))
            #expect(DiagRun.counters(stack) == before)
            #expect(stack.cards[1].state.pin.triesLeft == testCase.pin)
        }
    }
}
