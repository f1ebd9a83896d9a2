import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard
import VirtualReaderStack

/// `cpsctl card`, `pin` and `sign` end to end: the binary, pcscd, vpcd and the virtual CPS3; signatures
/// checked by OpenSSL with the exported certificates.
@Suite("cpsctl card, pin and sign")
struct CPSCtlCardTests {
    static let cpsctl = ToolRunner.executable("cpsctl")

    /// Writes `lines` to a file a test passes with `N<file` (a PIN never goes on a command line).
    static func secretFile(_ lines: [String]) throws -> String {
        let url = TestCards.temporaryDirectory("cpsd-secret").appendingPathComponent("codes")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("card info --json: holder, card type, serial, certificates, counters; no PIN and no try spent")
    func cardInfo() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let result = try ToolRunner.run(
                Self.cpsctl, ["card", "info", "--json", "--reader", stack.readerName(0)], environment: stack.environment)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let holder = try #require(json["holder"] as? [String: Any])
            let expected = TestCards.defaultState.holder
            #expect(holder["idNat"] as? String == expected.idNat)
            #expect(holder["idKind"] as? String == "RPPS")
            #expect(holder["givenName"] as? String == expected.givenName)
            #expect(holder["surname"] as? String == expected.surname)
            #expect(holder["profession"] as? String == expected.profession)
            #expect(holder["cardType"] as? String == "CPS")
            #expect(json["tokenLabel"] as? String == "CPS3v3-\(TestCards.defaultState.serial)")
            #expect((json["serialNumber"] as? String)?.isEmpty == false)
            let certificates = try #require(json["certificates"] as? [[String: Any]])
            #expect(certificates.map { $0["usage"] as? String } == ["authentication", "signature"])
            #expect(certificates.allSatisfy { $0["chain"] as? String == "trusted (test)" })
            #expect(certificates.allSatisfy { ($0["issuer"] as? String)?.contains("TEST AC IGC-SANTE FORT PERSONNES") == true })
            #expect((json["pin"] as? [String: Int])?["triesLeft"] == 3)
            #expect((json["puk"] as? [String: Int])?["triesLeft"] == 3)
            #expect(json["unblocksLeft"] as? Int == TestCards.defaultState.unblocksLeft)
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("sign with each key and mechanism; OpenSSL verifies with the exported certificate")
    func signAndVerify() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 0)
            let env = stack.environment
            let dir = TestCards.temporaryDirectory("cpsd-sign").path
            let reader = "--reader '\(stack.readerName(0))'"
            let export = try ToolRunner.shell("\(Self.cpsctl) card certs --export \(dir) \(reader)", environment: env)
            #expect(export.status == 0, "\(export.stderr)")
            for name in ["auth.pem", "auth.der", "sig.pem", "sig.der"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"))
            }
            let outcomes = try SignatureMatrix.run(
                cpsctl: Self.cpsctl, options: reader, directory: dir, environment: env,
                pinFile: try Self.secretFile(["1234"]))
            #expect(outcomes.count == 6)
            for outcome in outcomes {
                #expect(outcome.sign.status == 0, "\(outcome.label): \(outcome.sign.stderr)")
                #expect(outcome.verified, "\(outcome.label): \(outcome.check.output)")
            }
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("PIN change and PUK unblock end to end; tries shown; the trace never shows a code")
    func pinLifecycle() async throws {
        try await RealStack.withStack { stack in
            try stack.insertFreshCard(reader: 1)
            let env = stack.environment
            let reader = "--reader '\(stack.readerName(1))'"
            let change = try ToolRunner.shell(
                "\(Self.cpsctl) pin change --trace \(reader) --pin-fd 3 3<\(try Self.secretFile(["1234", "4321"]))",
                environment: env)
            #expect(change.status == 0, "\(change.stderr)")
            #expect(change.stderr.contains("PIN: 3 of 3 tries left"))
            #expect(stack.cards[1].state.pin.value == Array("4321".utf8))
            // Trace: VERIFY-class data redacted; neither code appears in hex or ASCII.
            #expect(change.stderr.contains("<redacted 8 bytes>"))
            for secret in ["31 32 33 34", "34 33 32 31", "1234", "4321"] { #expect(!change.stderr.contains(secret)) }

            let wrong = try ToolRunner.shell(
                "\(Self.cpsctl) sign \(reader) --key auth --mechanism SHA256-RSA-PKCS --in /etc/hostname --out /dev/null --pin-fd 3 3<\(try Self.secretFile(["0000"]))",
                environment: env)
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("2 tries left"))
            #expect(stack.cards[1].state.pin.triesLeft == 2)

            let unblock = try ToolRunner.shell(
                "\(Self.cpsctl) pin unblock --trace \(reader) --puk-fd 3 --pin-fd 4 3<\(try Self.secretFile(["12345678"])) 4<\(try Self.secretFile(["5678"]))",
                environment: env)
            #expect(unblock.status == 0, "\(unblock.stderr)")
            #expect(unblock.stderr.contains("Unblocks left: \(TestCards.defaultState.unblocksLeft)"))
            #expect(stack.cards[1].state.pin == Credential(value: Array("5678".utf8)))
            #expect(stack.cards[1].state.unblocksLeft == TestCards.defaultState.unblocksLeft - 1)
            for secret in ["12345678", "31 32 33 34 35 36 37 38", "5678", "35 36 37 38"] { #expect(!unblock.stderr.contains(secret)) }
        }
    }

    @Test("malformed codes are refused before the card is touched", arguments: ["123", "12345", "12a4"])
    func malformedPIN(code: String) async throws {
        try await RealStack.withStack { stack in
            let result = try ToolRunner.shell(
                "\(Self.cpsctl) pin change --trace --reader '\(stack.readerName(0))' --pin-fd 3 3<\(try Self.secretFile([code, "1111"]))",
                environment: stack.environment)
            #expect(result.status != 0)
            #expect(result.stderr.contains("exactly 4 digits"))
            #expect(!result.stderr.contains("> 00 24"), "no CHANGE REFERENCE DATA was sent")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("with one try left, nothing is spent without confirmation")
    func lastTry() async throws {
        try await RealStack.withStack { stack in
            var options = CardProvisioningOptions()
            options.pinTriesLeft = 1
            try stack.insertFreshCard(try TestCards.makeState(options), reader: 1)
            let result = try ToolRunner.shell(
                "\(Self.cpsctl) sign --reader '\(stack.readerName(1))' --key auth --mechanism SHA256-RSA-PKCS --in /etc/hostname --out /dev/null --pin-fd 3 3<\(try Self.secretFile(["0000"]))",
                environment: stack.environment)
            #expect(result.status != 0)
            #expect(result.stderr.contains("--confirm-last-try"))
            #expect(stack.cards[1].state.pin.triesLeft == 1)
        }
    }
}
