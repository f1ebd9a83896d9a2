import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// cps-vcard is faithful when the vendor's own middleware (Cryptolib CPS 5.2.2's PKCS#11 module, unchanged)
/// reads it, logs in and signs with both keys, and its APDU trace shows only the status words a real CPS3
/// gives (cps4-card.md §11). Each run: a cold cache, the module's fixed paths privately mounted.
@Suite("Cryptolib 5.2.2 against the virtual CPS3", .serialized)
struct CryptolibInteropTests {
    @Test("lists the token CPS3v3-<serial> and reads both certificates byte for byte; clean trace")
    func tokenAndCertificates() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let script = """
                \(Cryptolib.tool) -L
                \(Cryptolib.tool) --read-object --type cert --id \(Cryptolib.signatureKeyID) -o sig.der
                \(Cryptolib.tool) --read-object --type cert --id \(Cryptolib.authenticationKeyID) -o aut.der
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let state = stack.cards[0].state
            #expect(run.result.stdout.contains("token label        : CPS3v3-\(state.serial)"), "\(run.result.stdout)")
            #expect(run.result.stdout.contains("token manufacturer : ASIP SANTE"), "\(run.result.stdout)")
            let signature = try? Data(contentsOf: directory.appendingPathComponent("sig.der"))
            let authentication = try? Data(contentsOf: directory.appendingPathComponent("aut.der"))
            #expect(signature.map(Array.init) == state.signatureCertificateDER)
            #expect(authentication.map(Array.init) == state.authenticationCertificateDER)
            Self.expectFaithfulTrace(run, firstSelect: [0x00, 0xA4, 0x09, 0x04, 0x04, 0x3F, 0x00, 0xD0, 0x03])
        }
    }

    @Test("logs in and signs with each key and mechanism it offers; OpenSSL verifies; one VERIFY, no try spent")
    func loginAndSign() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let message = Data((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try message.write(to: directory.appendingPathComponent("msg"))
            try Self.writeDigestInfo(of: message, to: directory.appendingPathComponent("msg.di"))
            let sign = { (id: String, mechanism: String, input: String, output: String) in
                "\(Cryptolib.tool) --login --pin 1234 --sign -m \(mechanism) --id \(id) -i \(input) -o \(output)"
            }
            let script = [
                sign(Cryptolib.signatureKeyID, "SHA256-RSA-PKCS", "msg", "sig-sha256"),
                sign(Cryptolib.signatureKeyID, "SHA1-RSA-PKCS", "msg", "sig-sha1"),
                sign(Cryptolib.signatureKeyID, "RSA-PKCS", "msg.di", "sig-rsa"),
                // What TLS client authentication has it sign; INTERNAL AUTHENTICATE takes at most 40 % of the modulus.
                sign(Cryptolib.authenticationKeyID, "RSA-PKCS", "msg.di", "aut-rsa"),
            ].joined(separator: "\n")
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let state = stack.cards[0].state
            let sigKey = try Self.publicKey(state.signatureCertificateDER, "sig", in: directory)
            let autKey = try Self.publicKey(state.authenticationCertificateDER, "aut", in: directory)
            for (hash, file) in [("sha256", "sig-sha256"), ("sha1", "sig-sha1")] {
                let check = try ToolRunner.shell(
                    "cd '\(directory.path)' && openssl dgst -\(hash) -verify \(sigKey) -signature \(file) msg")
                #expect(check.stdout.contains("Verified OK"), "\(file): \(check.output)")
            }
            #expect(try Self.recovered(file: "sig-rsa", key: sigKey, in: directory) == Self.contents("msg.di", directory))
            #expect(try Self.recovered(file: "aut-rsa", key: autKey, in: directory) == Self.contents("msg.di", directory))
            // Four logins, each one VERIFY of PIN 01 (Cryptolib selects the MF with P1=02 first, §11.3).
            let verifies = run.exchanges.filter { Array($0.command.prefix(4)) == [0x00, 0x20, 0x00, 0x01] }
            #expect(verifies.count == 4 && verifies.allSatisfy { $0.statusWord == 0x9000 }, "\(verifies)")
            let mfSelects = run.exchanges.filter { $0.command == [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x3F, 0x00] }
            #expect(mfSelects.count >= 4 && mfSelects.allSatisfy { $0.statusWord == 0x9000 }, "\(mfSelects)")
            #expect(state.pin.triesLeft == state.pin.maxTries)
            Self.expectFaithfulTrace(run)
        }
    }

    @Test("decrypts with the authentication key what OpenSSL encrypted with its certificate (PSO DECIPHER, chained)")
    func decrypt() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let secret = Array("a 32-byte session key, for once.".utf8)
            try Data(secret).write(to: directory.appendingPathComponent("secret"))
            let autKey = try Self.publicKey(stack.cards[0].state.authenticationCertificateDER, "aut", in: directory)
            let encrypt = try ToolRunner.shell(
                "cd '\(directory.path)' && openssl pkeyutl -encrypt -pubin -inkey \(autKey) -in secret -out secret.enc")
            #expect(encrypt.status == 0, "\(encrypt.output)")
            let script = "\(Cryptolib.tool) --login --pin 1234 --decrypt -m RSA-PKCS --id \(Cryptolib.authenticationKeyID)"
                + " -i secret.enc -o secret.dec"
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(Self.contents("secret.dec", directory) == secret)
            // The shape of §11.3: MSE SET CT for key 82, then the cryptogram in two chained PSO DECIPHER.
            let mse: [UInt8] = [0x00, 0x22, 0x41, 0xB8, 0x06, 0x80, 0x01, 0x1A, 0x84, 0x01, 0x82]
            #expect(run.exchanges.contains { $0.command == mse && $0.statusWord == 0x9000 })
            let chained = run.exchanges.filter { Array($0.command.prefix(4)) == [0x10, 0x2A, 0x80, 0x86] }
            let last = run.exchanges.filter { Array($0.command.prefix(4)) == [0x00, 0x2A, 0x80, 0x86] }
            #expect(chained.count == 1 && last.count == 1, "\(run.exchanges)")
            #expect(last.first.map { $0.statusWord == 0x6100 | UInt16(secret.count) } == true, "\(last)")
            Self.expectFaithfulTrace(run)
        }
    }

    @Test("data objects: the DODF's CPS_* objects; CPS_DATA written through C_SetAttributeValue, zero-padded, read back")
    func dataObjects() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            try Self.setCPSDataScript.write(to: directory.appendingPathComponent("set.py"), atomically: true, encoding: .utf8)
            let value = "written by Cryptolib at \(Date().timeIntervalSince1970)"
            let script = """
                \(Cryptolib.tool) -O
                \(Cryptolib.tool) --read-object --type data --label CPS_NAME_PS -o name.bin
                /usr/bin/python3 set.py "$M" 1234 '\(value)'
                \(Cryptolib.tool) --read-object --type data --label CPS_DATA -o data.bin
                \(Cryptolib.tool) --login --pin 1234 --read-object --type data --label CPS_ACTIVITY_01_PS -o activity.bin
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            for label in ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_LANG_PS", "CPS_INFO_PS"] {
                #expect(run.result.stdout.contains("label:          '\(label)'"), "\(label):\n\(run.result.stdout)")
            }
            let state = stack.cards[0].state
            #expect(String(decoding: Self.contents("name.bin", directory), as: UTF8.self).contains(state.holder.surname))
            // The module zero-pads to the file size (cryptolib-pkcs11.md §6.3) and the card kept it.
            let expected = Array(value.utf8) + [UInt8](repeating: 0, count: 256 - value.utf8.count)
            #expect(Self.contents("data.bin", directory) == expected)
            #expect(state.cpsData == expected)
            #expect(Self.contents("activity.bin", directory).first == 0xEE)
            let updates = run.exchanges.filter { Array($0.command.prefix(2)) == [0x00, 0xD6] }
            #expect(updates.count == 2 && updates.allSatisfy { $0.statusWord == 0x9000 }, "\(updates)")
            Self.expectFaithfulTrace(run)
        }
    }

    @Test("the objects Cryptolib synthesizes from CPS2ter (CLA A0): CPS2TER_ACTIVITY_01_PS and CPS_SIT_FACT")
    func cps2terObjects() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let script = """
                \(Cryptolib.tool) --login --pin 1234 --read-object --type data --label CPS2TER_ACTIVITY_01_PS -o activity.bin
                \(Cryptolib.tool) --login --pin 1234 --read-object --type data --label CPS_SIT_FACT -o billing.bin
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let idNat = stack.cards[0].state.holder.idNat
            #expect(String(decoding: Self.contents("activity.bin", directory), as: UTF8.self).contains(idNat))
            #expect(String(decoding: Self.contents("billing.bin", directory), as: UTF8.self).contains(idNat.suffix(11)))
            // GSM-style CPS2ter: SELECT answered 9Fxx, then A0 C0 and A0 B0 (cps3-card.md §10).
            let selects = run.exchanges.filter { Array($0.command.prefix(2)) == [0xA0, 0xA4] }
            #expect(!selects.isEmpty && selects.allSatisfy { $0.statusWord >> 8 == 0x9F }, "\(selects)")
            #expect(run.exchanges.filter { Array($0.command.prefix(2)) == [0xA0, 0xB0] }.count == 2)
            Self.expectFaithfulTrace(run)
        }
    }

    @Test("a wrong PIN: CKR_PIN_INCORRECT from one 63C2, the token flags 'count low', the right PIN restores; random by GET CHALLENGE")
    func wrongPINAndRandom() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let script = """
                \(Cryptolib.tool) --generate-random 16 -o random.bin
                \(Cryptolib.tool) --login --pin 9999 -O > wrong.txt 2>&1 || echo "login refused"
                \(Cryptolib.tool) -L
                \(Cryptolib.tool) --login --pin 1234 -O
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(run.result.stdout.contains("login refused"))
            #expect(String(decoding: Self.contents("wrong.txt", directory), as: UTF8.self).contains("CKR_PIN_INCORRECT"))
            #expect(run.result.stdout.contains("user PIN count low"), "\(run.result.stdout)")
            #expect(run.result.stdout.components(separatedBy: "Private Key Object").count == 3)
            #expect(stack.cards[0].state.pin.triesLeft == stack.cards[0].state.pin.maxTries)
            #expect(Self.contents("random.bin", directory).count == 16)
            let challenges = run.exchanges.filter { $0.command == [0x00, 0x84, 0x00, 0x00, 0x08] }
            #expect(challenges.count == 2 && challenges.allSatisfy { $0.response.count == 10 && $0.statusWord == 0x9000 })
            // The one refusal a real card gives here: 63C2 to the wrong VERIFY; nothing else.
            let errors = Cryptolib.unexpectedErrors(run.exchanges)
            #expect(errors.map(\.statusWord) == [0x63C2], "\(errors)")
            #expect(errors.first.map { Array($0.command.prefix(4)) == [0x00, 0x20, 0x00, 0x01] } == true)
        }
    }

    @Test("a card that answers 6E00 to IAS after CPS2ter: Cryptolib selects the root AID and retries, and works on")
    func recoversFrom6E00() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        var state = TestCards.defaultState
        state.refusesIASAfterCPS2ter = true
        try await Self.withCard(state) { stack, directory in
            let script = """
                \(Cryptolib.tool) --login --pin 1234 --read-object --type data --label CPS2TER_ACTIVITY_01_PS -o activity.bin
                \(Cryptolib.tool) --read-object --type data --label CPS_NAME_PS -o name.bin
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(!Self.contents("activity.bin", directory).isEmpty)
            #expect(String(decoding: Self.contents("name.bin", directory), as: UTF8.self).contains(state.holder.surname))
            // The second process starts with EF.SN while the card is still in CPS2ter: 6E00, recovered.
            let rootSelect: [UInt8] = [0x00, 0xA4, 0x04, 0x04, 0x08, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
            let errors = Cryptolib.unexpectedErrors(run.exchanges)
            #expect(!errors.isEmpty && errors.allSatisfy { $0.statusWord == 0x6E00 && $0.command.first == 0x00 }, "\(errors)")
            for (index, exchange) in run.exchanges.enumerated() where exchange.statusWord == 0x6E00 {
                #expect(run.exchanges.dropFirst(index + 1).first?.command == rootSelect, "no recovery after \(exchange)")
                #expect(run.exchanges.dropFirst(index + 2).first?.command == exchange.command, "no retry of \(exchange)")
            }
        }
    }

    @Test("changes the PIN (CHANGE REFERENCE DATA), then logs in with the new one")
    func changePIN() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let script = """
                \(Cryptolib.tool) --login --pin 1234 --change-pin --new-pin 4321
                \(Cryptolib.tool) --login --pin 4321 -O
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(run.result.stdout.components(separatedBy: "Private Key Object").count == 3, "\(run.result.stdout)")
            #expect(stack.cards[0].state.pin.value == Array("4321".utf8))
            #expect(run.exchanges.contains { Array($0.command.prefix(5)) == [0x00, 0x24, 0x00, 0x01, 0x08] && $0.statusWord == 0x9000 })
            Self.expectFaithfulTrace(run)
        }
    }

    @Test("reads the PUK's DOCP (usage counter) from the AODF; SO login with the PUK then C_InitPIN uses one unblock")
    func unblockWithPUK() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCard { stack, directory in
            let before = stack.cards[0].state.unblocksLeft
            let script = """
                \(Cryptolib.tool) --login --login-type so --so-pin 12345678 --init-pin --new-pin 2468
                \(Cryptolib.tool) --login --pin 2468 -O
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(run.result.stdout.components(separatedBy: "Private Key Object").count == 3, "\(run.result.stdout)")
            let state = stack.cards[0].state
            #expect(state.unblocksLeft == before - 1)
            #expect(state.pin.value == Array("2468".utf8))
            let pukDOCP: [UInt8] = [0x00, 0xCB, 0x3F, 0xFF, 0x0A, 0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, 0x02, 0x02, 0xA0, 0x80]
            #expect(run.exchanges.contains { $0.command == pukDOCP })
            #expect(run.exchanges.contains { Array($0.command.prefix(5)) == [0x00, 0x20, 0x00, 0x02, 0x08] && $0.statusWord == 0x9000 })
            #expect(run.exchanges.contains { Array($0.command.prefix(4)) == [0x00, 0x2C, 0x02, 0x01] && $0.statusWord == 0x9000 })
            Self.expectFaithfulTrace(run)
        }
    }

    /// C_SetAttributeValue(CKA_VALUE) on CPS_DATA in a R/W session after login (pkcs11-tool has no such
    /// command): PyKCS11, argv = module, PIN, value.
    static let setCPSDataScript = """
        import sys, PyKCS11
        lib = PyKCS11.PyKCS11Lib()
        lib.load(sys.argv[1])
        session = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
        session.login(sys.argv[2])
        data = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_LABEL, "CPS_DATA")])[0]
        session.setAttributeValue(data, [(PyKCS11.CKA_VALUE, sys.argv[3].encode())])
        session.logout()
        """

    @Test("the trace parser reads commands, multi-line responses and status words")
    func traceParser() {
        let text = """
            Fri Dec  4 20:46:42.805 :\u{20}
            Outgoing APDU data [    9 bytes] =====================================
            00 A4 09 04 04 3F 00 D0 03 .....?...
            ======================================================================
            Incoming APDU data [   18 bytes] =====================================
            00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F ................
            90 00 ..
            ======================================================================
            """
        let exchanges = CryptolibTrace.parse(text)
        #expect(exchanges.count == 1)
        #expect(exchanges.first?.command == [0x00, 0xA4, 0x09, 0x04, 0x04, 0x3F, 0x00, 0xD0, 0x03])
        #expect(exchanges.first?.response.count == 18)
        #expect(exchanges.first?.statusWord == 0x9000)
        let refused = TraceExchange(command: [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x3F, 0x00], response: [0x6A, 0x82])
        let actua = TraceExchange(command: [0x00, 0xA4, 0x09, 0x04, 0x04, 0x3F, 0x00, 0xD0, 0x10], response: [0x6A, 0x82])
        #expect(Cryptolib.unexpectedErrors([refused, actua]).map(\.command) == [refused.command])
    }
}
