import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// cpsctl's direct card commands and `diag` on a CPS4 (ChipDoc): the same commands as on a CPS3, through
/// the CPS4 driver chosen by ATR, on the real stack.
@Suite("cpsctl card, pin, sign and diag on a CPS4")
struct CPSCtlCPS4Tests {
    static let cpsctl = ToolRunner.executable("cpsctl")

    @Test("card info --json: the CPS4v1 label, the holder, both certificates trusted, the counters; no try spent")
    func cardInfo() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(TestCards.cps4State(atr: .t0), reader: 0)
            let result = try ToolRunner.run(
                Self.cpsctl, ["card", "info", "--json", "--reader", stack.readerName(0)], environment: stack.environment)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["tokenLabel"] as? String == "CPS4v1-\(TestCards.defaultState.serial)")
            #expect((json["holder"] as? [String: Any])?["idNat"] as? String == TestCards.defaultState.holder.idNat)
            let certificates = try #require(json["certificates"] as? [[String: Any]])
            #expect(certificates.map { $0["usage"] as? String } == ["authentication", "signature"])
            #expect(certificates.allSatisfy { $0["chain"] as? String == "trusted (test)" })
            #expect((json["pin"] as? [String: Int])?["triesLeft"] == 3)
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("pin change (a wrong current PIN costs one try), then sign with each key; OpenSSL verifies")
    func pinAndSign() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(TestCards.cps4State(), reader: 0)
            let env = stack.environment
            let dir = TestCards.temporaryDirectory("cpsd-cps4-sign").path
            let reader = "--reader '\(stack.readerName(0))'"
            let wrong = try CPSCtlCardTests.secretFile(["9999", "4321", "4321"])
            let refused = try ToolRunner.shell("\(Self.cpsctl) pin change --pin-fd 3 \(reader) 3<\(wrong)", environment: env)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("2 tries left"), "\(refused.stderr)")
            #expect(stack.cards[0].state.pin.triesLeft == 2)
            let change = try CPSCtlCardTests.secretFile(["1234", "4321", "4321"])
            let changed = try ToolRunner.shell("\(Self.cpsctl) pin change --pin-fd 3 \(reader) 3<\(change)", environment: env)
            #expect(changed.status == 0, "\(changed.stderr)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)

            let export = try ToolRunner.shell("\(Self.cpsctl) card certs --export \(dir) \(reader)", environment: env)
            #expect(export.status == 0, "\(export.stderr)")
            try "ordonnance CPS4".write(toFile: "\(dir)/data", atomically: true, encoding: .utf8)
            let pin = try CPSCtlCardTests.secretFile(["4321"])
            for (key, mechanism, verify) in [
                ("sig", "SHA256-RSA-PKCS", "openssl dgst -sha256 -verify sig.pub -signature sig-out data"),
                ("auth", "SHA256-RSA-PKCS", "openssl dgst -sha256 -verify auth.pub -signature auth-out data"),
            ] {
                let sign = try ToolRunner.shell(
                    "\(Self.cpsctl) sign --key \(key) --mechanism \(mechanism) --in \(dir)/data --out \(dir)/\(key)-out "
                        + "--pin-fd 3 \(reader) 3<\(pin)", environment: env)
                #expect(sign.status == 0, "\(key): \(sign.stderr)")
                let check = try ToolRunner.shell(
                    "cd \(dir) && openssl x509 -in \(key).pem -pubkey -noout > \(key).pub && \(verify)")
                #expect(check.stdout.contains("Verified OK"), "\(key): \(check.output)")
            }
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("diag: card.kind says CPS4, the identity and counters are read, no counter moves")
    func diag() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(TestCards.cps4State(), reader: 0)
            let before = DiagRun.counters(stack)
            let run = try DiagRun.run(stack, ["--reader", stack.readerName(0)])
            for id in ["card.present", "card.kind", "card.identity", "certificates.chain", "pin.tries", "pin.unblock"] {
                #expect(run.status(id) == "ok", "\(id): \(run.finding(id))")
            }
            #expect(run.finding("card.kind").contains("CPS4"), "\(run.finding("card.kind"))")
            #expect(run.finding("card.identity").contains(TestCards.defaultState.holder.surname))
            #expect(run.finding("pin.tries").contains("3 of 3"), "\(run.finding("pin.tries"))")
            #expect(DiagRun.counters(stack) == before)
        }
    }
}
