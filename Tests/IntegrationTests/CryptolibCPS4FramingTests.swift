import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// The CPS4 under its T=0-only ATR, and its lost-context fault, with Cryptolib 5.2.2 (cps4-card.md §2, §3).
@Suite("Cryptolib 5.2.2 against the virtual CPS4: T=0 ATR and lost context", .serialized)
struct CryptolibCPS4FramingTests {
    @Test("T=0-only ATR: 61xx then GET RESPONSE with CLA 01, case-1 VERIFY with P3=00; signs (PSS) and decrypts")
    func t0OnlyATR() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await CryptolibCPS4Tests.withCPS4(TestCards.cps4State(atr: .t0)) { stack, directory in
            let message = Data("signed under T=0".utf8)
            try message.write(to: directory.appendingPathComponent("msg"))
            let secret = Array("sixteen byte key".utf8)
            try Data(secret).write(to: directory.appendingPathComponent("secret"))
            let state = stack.cards[0].state
            let autKey = try CryptolibInteropTests.publicKey(state.authenticationCertificateDER, "aut", in: directory)
            let encrypt = try ToolRunner.shell(
                "cd '\(directory.path)' && openssl pkeyutl -encrypt -pubin -inkey \(autKey) -in secret -out secret.enc")
            #expect(encrypt.status == 0, "\(encrypt.output)")
            let login = "\(Cryptolib.tool) --login --pin 1234"
            let key = "--id \(Cryptolib.cps4AuthenticationKeyID)"
            let script = """
                \(Cryptolib.tool) -L
                \(login) --sign -m SHA256-RSA-PKCS-PSS \(key) -i msg -o aut-pss
                \(login) --decrypt -m RSA-PKCS \(key) -i secret.enc -o secret.dec
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(run.result.stdout.contains("token label        : CPS4v1-\(state.serial)"), "\(run.result.stdout)")
            let pss = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256"
            let check = try ToolRunner.shell(
                "cd '\(directory.path)' && openssl dgst -sha256 -verify \(autKey) \(pss) -signature aut-pss msg")
            #expect(check.stdout.contains("Verified OK"), "\(check.output)")
            #expect(CryptolibInteropTests.contents("secret.dec", directory) == secret)
            // T=0 framing seen from the module: the FCI of EF.SN comes through 61xx + `01 C0 00 00 xx`, the
            // signature through 6100 + `01 C0 00 00 00`; empty VERIFYs carry P3=00.
            #expect(
                run.exchanges.contains {
                    $0.command == [0x01, 0xA4, 0x08, 0x00, 0x02, 0xD0, 0x03] && $0.statusWord >> 8 == 0x61
                })
            #expect(
                run.exchanges.contains { $0.command == [0x01, 0xC0, 0x00, 0x00, 0x00] && $0.response.count == 258 })
            #expect(run.exchanges.contains { $0.command == [0x01, 0x20, 0x00, 0x81, 0x00] })
            #expect(
                !run.exchanges.contains { $0.command.first == 0x00 && $0.command.count > 1 && $0.command[1] == 0xC0 })
            CryptolibCPS4Tests.expectCleanTrace(run)
        }
    }

    /// What Cryptolib 5.2.2 does with the card's lost-context fault (#1722, cps4-card.md §3, §8): recorded from
    /// its traces, not from the reference, which expects an ISD → CPS2ter → ChipDoc reselect that 5.2.2 never sends.
    @Test("lost context (#1722): 6985 at bind is survived by reconnecting; 6985 before a signature fails it")
    func lostContext() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        let directory = TestCards.temporaryDirectory("cpsd-cryptolib-cps4-fault")
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = directory.appendingPathComponent("plan")
        try Data("mode=off".utf8).write(to: plan)
        let card = CPS3Card(state: TestCards.cps4State(), faults: CardFaultInjector(planPath: plan.path))
        try await RealStack.withStack { stack in
            defer { try? stack.insertFreshCard(reader: 0) }
            try stack.insertCard(card, reader: 0)
            try stack.removeCard(reader: 1)
            try Data("lost context".utf8).write(to: directory.appendingPathComponent("msg"))
            let script =
                "\(Cryptolib.tool) --login --pin 1234 --sign -m SHA256-RSA-PKCS-PSS"
                + " --id \(Cryptolib.cps4SignatureKeyID) -i msg -o sig 2>&1 || echo refused"
            let arm = { (after: Int) in
                try Data("mode=\(CardFaultInjector.lostContextMode) after=\(after)".utf8).write(to: plan)
            }
            // At bind: the first command after the ChipDoc SELECT (EF.SN's) gets 6985. Cryptolib gives the card up,
            // connects again (a new ChipDoc SELECT) and signs.
            try arm(0)
            let bind = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(!bind.result.stdout.contains("refused"), "\(bind.result.output)")
            #expect(Cryptolib.errorStatuses(bind.exchanges).map(\.statusWord) == [0x6985], "\(bind.exchanges)")
            #expect(bind.exchanges.filter { $0.command == Self.selectChipDoc }.count >= 2)
            // Before the signature: the application DF's reselect gets 6985, then 6881 (channel 1 closed) when
            // retried; Cryptolib fails the signature (CKR_GENERAL_ERROR) without ever reselecting ChipDoc.
            // The fault is armed to let through the ChipDoc commands of a clean bind and login (the bind run's,
            // after its faulted first connection) and to hit the next one.
            let exchanges = Array(bind.exchanges)
            let reconnected = (exchanges.firstIndex { $0.statusWord == 0x6985 } ?? -1) + 1
            let verified = exchanges.lastIndex {
                $0.command.count > 5 && Array($0.command.prefix(4)) == [0x01, 0x20, 0x00, 0x81]
            }
            let login = exchanges[reconnected...(verified ?? reconnected)]
            try arm(login.filter { $0.command[0] == 0x01 && $0.command[2] != 0x04 && $0.command[1] != 0xC0 }.count)
            let signature = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(signature.result.stdout.contains("CKR_GENERAL_ERROR"), "\(signature.result.output)")
            let errors = Cryptolib.errorStatuses(signature.exchanges)
            #expect(errors.map(\.statusWord) == [0x6985, 0x6881], "\(errors)")
            #expect(errors.allSatisfy { Array($0.command.prefix(2)) == [0x01, 0xA4] }, "\(errors)")
            let selectISD: [UInt8] = [0x01, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00]
            #expect(!signature.exchanges.contains { $0.command == selectISD || $0.command.first == 0x00 })
            #expect(card.state.pin.triesLeft == 3)
        }
    }

    static let selectChipDoc: [UInt8] = [0x01, 0xA4, 0x04, 0x0C, 0x08, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
}
