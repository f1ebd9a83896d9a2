import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// cps-vcard's CPS4 is faithful when Cryptolib CPS 5.2.2 (unchanged) finds the token, logs in, signs with both
/// keys (PKCS#1 v1.5 and PSS), decrypts, changes the PIN and writes CPS_DATA, and the card never answers it
/// with an error status (cps4-card.md §12). Same harness as `CryptolibInteropTests` (CPS3).
@Suite("Cryptolib 5.2.2 against the virtual CPS4", .serialized)
struct CryptolibCPS4Tests {
    @Test("lists the token CPS4v1-<serial>, reads both certificates; ChipDoc selected on channel 1; clean trace")
    func tokenAndCertificates() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            let script = """
                \(Cryptolib.tool) -L
                \(Cryptolib.tool) --read-object --type cert --id \(Cryptolib.cps4SignatureKeyID) -o sig.der
                \(Cryptolib.tool) --read-object --type cert --id \(Cryptolib.cps4AuthenticationKeyID) -o aut.der
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let state = stack.cards[0].state
            #expect(run.result.stdout.contains("token label        : CPS4v1-\(state.serial)"), "\(run.result.stdout)")
            #expect(run.result.stdout.contains("token manufacturer : ASIP SANTE"), "\(run.result.stdout)")
            #expect(Self.contents("sig.der", directory) == state.signatureCertificateDER)
            #expect(Self.contents("aut.der", directory) == state.authenticationCertificateDER)
            let selectChipDoc: [UInt8] = [0x01, 0xA4, 0x04, 0x0C, 0x08, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
            Self.expectCleanTrace(run, firstCommand: selectChipDoc)
        }
    }

    @Test(
        "logs in and signs: SHA256-RSA-PKCS (sig key), RSA-PKCS (auth key), SHA256-RSA-PKCS-PSS (both); OpenSSL verifies"
    )
    func loginAndSign() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            let message = Data((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            try message.write(to: directory.appendingPathComponent("msg"))
            try CryptolibInteropTests.writeDigestInfo(of: message, to: directory.appendingPathComponent("msg.di"))
            try Self.signScript.write(
                to: directory.appendingPathComponent("sign.py"), atomically: true, encoding: .utf8)
            let sign = { (id: String, mechanism: String, input: String, output: String) in
                "\(Cryptolib.tool) --login --pin 1234 --sign -m \(mechanism) --id \(id) -i \(input) -o \(output)"
            }
            let script = [
                sign(Cryptolib.cps4SignatureKeyID, "SHA256-RSA-PKCS", "msg", "sig-sha256"),
                sign(Cryptolib.cps4SignatureKeyID, "SHA256-RSA-PKCS-PSS", "msg", "sig-pss"),
                sign(Cryptolib.cps4AuthenticationKeyID, "SHA256-RSA-PKCS-PSS", "msg", "aut-pss"),
                // CKM_RSA_PKCS on the auth key with a 256-byte output buffer (see `signScript`).
                "/usr/bin/python3 sign.py \"$M\" 1234 \(Cryptolib.cps4AuthenticationKeyID) msg.di aut-rsa",
            ].joined(separator: "\n")
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let state = stack.cards[0].state
            let sigKey = try CryptolibInteropTests.publicKey(state.signatureCertificateDER, "sig", in: directory)
            let autKey = try CryptolibInteropTests.publicKey(state.authenticationCertificateDER, "aut", in: directory)
            let pss = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256"
            for (key, file, options) in [
                (sigKey, "sig-sha256", ""), (sigKey, "sig-pss", pss), (autKey, "aut-pss", pss),
            ] {
                let check = try ToolRunner.shell(
                    "cd '\(directory.path)' && openssl dgst -sha256 -verify \(key) \(options) -signature \(file) msg")
                #expect(check.stdout.contains("Verified OK"), "\(file): \(check.output)")
            }
            let recovered = try CryptolibInteropTests.recovered(file: "aut-rsa", key: autKey, in: directory)
            #expect(recovered == Self.contents("msg.di", directory))
            // The command shapes of §7.1: DST MSE with 91 02 <alg> <key|80>, PSO CDS of a 32-byte host hash; the
            // auth key's PKCS#1 signature is a host-padded block through the CT MSE and a chained PSO DECIPHER.
            for (algorithm, key): (UInt8, UInt8) in [(0x28, 0x90), (0x2C, 0x90), (0x2C, 0xA0)] {
                let mse: [UInt8] = [0x01, 0x22, 0x81, 0xB6, 0x04, 0x91, 0x02, algorithm, key]
                #expect(run.exchanges.contains { $0.command == mse }, "no MSE \(mse)")
            }
            #expect(run.exchanges.filter { Array($0.command.prefix(5)) == [0x01, 0x2A, 0x9E, 0x9A, 0x20] }.count == 3)
            #expect(run.exchanges.contains { $0.command == [0x01, 0x22, 0x41, 0xB8, 0x03, 0x83, 0x01, 0x20] })
            #expect(run.exchanges.contains { Array($0.command.prefix(5)) == [0x11, 0x2A, 0x80, 0x86, 0xFF] })
            #expect(state.pin.triesLeft == state.pin.maxTries)
            Self.expectCleanTrace(run)
        }
    }

    @Test("Cryptolib defect, not the card's: pkcs11-tool's RSA-PKCS on the auth key fails before any PSO (Le 512)")
    func authenticationKeyPKCS1WithALargeBuffer() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            try CryptolibInteropTests.writeDigestInfo(
                of: Data("x".utf8), to: directory.appendingPathComponent("msg.di"))
            let script =
                "\(Cryptolib.tool) --login --pin 1234 --sign -m RSA-PKCS --id \(Cryptolib.cps4AuthenticationKeyID)"
                + " -i msg.di -o aut-rsa 2>&1 || echo refused"
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            // pkcs11-tool offers a 512-byte buffer; the CPS4 driver makes it the Le of a short APDU and its own
            // APDU check refuses it ("Invalid Case 4 short APDU … le=512"): the card never sees a PSO DECIPHER.
            #expect(
                run.result.stdout.contains("refused") && run.result.stdout.contains("CKR_ARGUMENTS_BAD"),
                "\(run.result.output)")
            #expect(!run.exchanges.contains { $0.command.count > 1 && $0.command[1] == 0x2A }, "\(run.exchanges)")
            #expect(run.exchanges.contains { $0.command == [0x01, 0x22, 0x41, 0xB8, 0x03, 0x83, 0x01, 0x20] })
            Self.expectCleanTrace(run)
        }
    }

    /// C_Sign with CKM_RSA_PKCS, the way PyKCS11 calls it: a size query first, then a buffer of exactly the
    /// signature's size (argv = module, PIN, key ID in hex, input file, output file).
    static let signScript = """
        import sys, PyKCS11
        lib = PyKCS11.PyKCS11Lib()
        lib.load(sys.argv[1])
        session = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_SERIAL_SESSION)
        session.login(sys.argv[2])
        key = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_ID, bytes.fromhex(sys.argv[3]))])[0]
        signature = session.sign(key, open(sys.argv[4], "rb").read(), PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None))
        open(sys.argv[5], "wb").write(bytes(signature))
        session.logout()
        """

    @Test("decrypts with the authentication key what OpenSSL encrypted (raw RSA on the card, chained PSO DECIPHER)")
    func decrypt() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            let secret = Array("a 32-byte session key, for once.".utf8)
            try Data(secret).write(to: directory.appendingPathComponent("secret"))
            let autKey = try CryptolibInteropTests.publicKey(
                stack.cards[0].state.authenticationCertificateDER, "aut", in: directory)
            let encrypt = try ToolRunner.shell(
                "cd '\(directory.path)' && openssl pkeyutl -encrypt -pubin -inkey \(autKey) -in secret -out secret.enc")
            #expect(encrypt.status == 0, "\(encrypt.output)")
            let script =
                "\(Cryptolib.tool) --login --pin 1234 --decrypt -m RSA-PKCS --id \(Cryptolib.cps4AuthenticationKeyID)"
                + " -i secret.enc -o secret.dec"
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(Self.contents("secret.dec", directory) == secret)
            // 255 + 1 bytes, no padding indicator (§7.1, §7.3).
            let chained = run.exchanges.filter { Array($0.command.prefix(5)) == [0x11, 0x2A, 0x80, 0x86, 0xFF] }
            let last = run.exchanges.filter { Array($0.command.prefix(5)) == [0x01, 0x2A, 0x80, 0x86, 0x01] }
            #expect(chained.count == 1 && last.count == 1, "\(run.exchanges)")
            Self.expectCleanTrace(run)
        }
    }

    @Test("changes the PIN (VERIFY then CHANGE P1=01) and back; logs in with each")
    func changePIN() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            let script = """
                \(Cryptolib.tool) --login --pin 1234 --change-pin --new-pin 4321
                \(Cryptolib.tool) --login --pin 4321 -O > objects.txt
                \(Cryptolib.tool) --login --pin 4321 --change-pin --new-pin 1234
                \(Cryptolib.tool) --login --pin 1234 -O
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            let objects = String(decoding: Self.contents("objects.txt", directory), as: UTF8.self)
            #expect(objects.components(separatedBy: "Private Key Object").count == 3, "\(objects)")
            #expect(stack.cards[0].state.pin.value == Array("1234".utf8))
            let changes = run.exchanges.filter {
                Array($0.command.prefix(5)) == [0x01, 0x24, 0x01, CPS4PIN.reference, 0x04]
            }
            #expect(changes.count == 2 && changes.allSatisfy { $0.statusWord == 0x9000 }, "\(changes)")
            Self.expectCleanTrace(run)
        }
    }

    @Test("data objects: CPS_* and CPS2TER_* in the DODF; CPS_DATA written through C_SetAttributeValue and read back")
    func dataObjects() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await Self.withCPS4 { stack, directory in
            try CryptolibInteropTests.setCPSDataScript.write(
                to: directory.appendingPathComponent("set.py"), atomically: true, encoding: .utf8)
            let value = "written by Cryptolib to a CPS4 at \(Date().timeIntervalSince1970)"
            let script = """
                \(Cryptolib.tool) -O
                \(Cryptolib.tool) --read-object --type data --label CPS_NAME_PS -o name.bin
                /usr/bin/python3 set.py "$M" 1234 '\(value)'
                \(Cryptolib.tool) --read-object --type data --label CPS_DATA -o data.bin
                \(Cryptolib.tool) --login --pin 1234 --read-object --type data --label CPS2TER_ACTIVITY_01_PS -o activity.bin
                """
            let run = try Cryptolib.run(script, stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            for label in ["CPS_DATA", "CPS_ID_CARD", "CPS_NAME_PS", "CPS_INFO_PS"] {
                #expect(run.result.stdout.contains("label:          '\(label)'"), "\(label):\n\(run.result.stdout)")
            }
            let state = stack.cards[0].state
            #expect(
                String(decoding: Self.contents("name.bin", directory), as: UTF8.self).contains(state.holder.surname))
            let expected = Array(value.utf8) + [UInt8](repeating: 0, count: 256 - value.utf8.count)
            #expect(Self.contents("data.bin", directory) == expected)
            #expect(state.cpsData == expected)
            #expect(
                String(decoding: Self.contents("activity.bin", directory), as: UTF8.self).contains(state.holder.idNat))
            #expect(run.exchanges.contains { Array($0.command.prefix(2)) == [0x01, 0xD6] && $0.statusWord == 0x9000 })
            // CPS2TER_* come from the PKCS#15 application: no CLA A0 on a CPS4.
            #expect(!run.exchanges.contains { $0.command.first == 0xA0 })
            Self.expectCleanTrace(run)
        }
    }
}

extension CryptolibCPS4Tests {
    @Test("a mixed pair: a CPS3 in reader 0 and a CPS4 in reader 1 are two tokens, CPS3v3-… and CPS4v1-…")
    func mixedPair() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        try await RealStack.withStack { stack in
            defer { try? stack.insertFreshCards([TestCards.defaultState, TestCards.defaultState]) }
            var cps4 = TestCards.cps4State()
            cps4.serial = "3100603746"
            try stack.insertFreshCards([TestCards.defaultState, cps4])
            let directory = TestCards.temporaryDirectory("cpsd-cryptolib-mixed")
            defer { try? FileManager.default.removeItem(at: directory) }
            let run = try Cryptolib.run("pkcs11-tool --module \"$M\" -L", stack: stack, in: directory)
            #expect(run.result.status == 0, "\(run.result.output)")
            #expect(
                run.result.stdout.contains("token label        : CPS3v3-\(TestCards.defaultState.serial)"),
                "\(run.result.stdout)")
            #expect(run.result.stdout.contains("token label        : CPS4v1-3100603746"), "\(run.result.stdout)")
            // Each card got its own dialect: CLA 00 and IAS paths for the CPS3, channel 1 for the CPS4.
            #expect(run.exchanges.contains { $0.command == [0x00, 0xA4, 0x09, 0x04, 0x04, 0x3F, 0x00, 0xD0, 0x03] })
            #expect(run.exchanges.contains { $0.command == [0x01, 0xA4, 0x08, 0x00, 0x02, 0xD0, 0x03, 0x00] })
        }
    }
}

/// The PIN reference of the virtual CPS4's AODF (our choice, `CPS4Constants.swift`).
enum CPS4PIN {
    static let reference: UInt8 = 0x81
}

extension CryptolibCPS4Tests {
    /// A fresh CPS4 alone on the stack (reader 0; reader 1 empty), a scratch directory; afterwards reader 0 gets
    /// the default CPS3 back, which the other suites on the shared stack expect.
    static func withCPS4(
        _ state: CardState = TestCards.cps4State(), _ body: (RealStack, URL) async throws -> Void
    ) async throws {
        try await CryptolibInteropTests.withCard(state, body)
    }

    /// The module spoke to the card, starting with `firstCommand` if given, and got only 9000 and 61xx.
    static func expectCleanTrace(_ run: Cryptolib.Run, firstCommand: [UInt8]? = nil) {
        #expect(!run.exchanges.isEmpty, "no APDU in the module's trace")
        if let firstCommand { #expect(run.exchanges.first?.command == firstCommand, "\(run.exchanges.prefix(3))") }
        let errors = Cryptolib.errorStatuses(run.exchanges)
        #expect(
            errors.isEmpty, "error status words from the CPS4:\n\(errors.map(\.description).joined(separator: "\n"))")
    }

    static func contents(_ name: String, _ directory: URL) -> [UInt8] {
        CryptolibInteropTests.contents(name, directory)
    }
}
