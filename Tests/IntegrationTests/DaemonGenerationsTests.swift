import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard

/// cpsd with a CPS3 in reader 0 and a CPS4 in reader 1, through the stock p11-kit client and OpenSC's
/// pkcs11-tool: both tokens side by side, every mechanism each generation offers, each signature checked
/// by OpenSSL with the token's own certificate, and decryption round trips.
@Suite("cpsd serves CPS3 and CPS4 side by side")
struct DaemonGenerationsTests {
    static let cards = [TestCards.defaultState, TestCards.cps4State()]
    static let cps3Label = "CPS3v3-\(TestCards.defaultState.serial)"
    static let cps4Label = "CPS4v1-\(TestCards.defaultState.serial)"
    static let cps4AuthID = "e828bd080f8025000001ff001020"
    static let cps4SigID = "e828bd080f8025000001ff001010"

    @Test("-L lists both tokens with their generation's label and model; -M lists what each offers")
    func listsBothGenerations() async throws {
        try await DaemonTest.withDaemon(cards: Self.cards) { _, daemon in
            let list = try DaemonTest.tool(daemon, ["-L"])
            #expect(list.status == 0, "\(list.output)")
            #expect(list.stdout.contains("token label        : \(Self.cps3Label)"), "\(list.stdout)")
            #expect(list.stdout.contains("token label        : \(Self.cps4Label)"), "\(list.stdout)")
            #expect(list.stdout.contains("token model        : IAS ECC"), "\(list.stdout)")
            #expect(list.stdout.contains("token model        : ChipDoc"), "\(list.stdout)")
            let cps4 = try DaemonTest.tool(daemon, ["--token-label", Self.cps4Label, "-M"])
            // cpsd offers SHA1/SHA256-RSA-PKCS-PSS too, but Debian 12's p11-kit 0.24.1 client drops hashed PSS
            // from the list (p11-kit-rpc.md): through p11-kit, callers hash and use RSA-PKCS-PSS, as TLS 1.3 does.
            #expect(cps4.stdout.contains("RSA-PKCS-PSS"), "\(cps4.stdout)")
            #expect(cps4.stdout.contains("RSA-X-509"), "\(cps4.stdout)")
            let cps3 = try DaemonTest.tool(daemon, ["--token-label", Self.cps3Label, "-M"])
            #expect(cps3.status == 0 && cps3.stdout.contains("SHA256-RSA-PKCS"), "\(cps3.output)")
            #expect(!cps3.stdout.contains("PSS") && !cps3.stdout.contains("RSA-X-509"), "\(cps3.stdout)")
        }
    }

    /// Every mechanism the p11-kit 0.24.1 client lets through (the hashed PSS ones are signed in process by
    /// PKCS11Tests' CPS4SignTests).
    @Test(
        "CPS4: every mechanism of both keys signs through cpsd and OpenSSL verifies",
        arguments: [
            (Self.cps4SigID, "RSA-PKCS"), (Self.cps4SigID, "SHA1-RSA-PKCS"), (Self.cps4SigID, "SHA256-RSA-PKCS"),
            (Self.cps4SigID, "RSA-PKCS-PSS"), (Self.cps4AuthID, "RSA-PKCS"), (Self.cps4AuthID, "RSA-X-509"),
            (Self.cps4AuthID, "SHA256-RSA-PKCS"), (Self.cps4AuthID, "SHA1-RSA-PKCS"), (Self.cps4AuthID, "RSA-PKCS-PSS"),
        ])
    func cps4Signatures(keyID: String, mechanism: String) async throws {
        try await DaemonTest.withDaemon(cards: Self.cards) { stack, daemon in
            let directory = TestCards.temporaryDirectory("cpsd-cps4sign")
            defer { try? FileManager.default.removeItem(at: directory) }
            let failure = try GenerationSigning.signAndVerify(
                daemon, token: Self.cps4Label, keyID: keyID, mechanism: mechanism, in: directory)
            #expect(failure == nil, "\(failure ?? "")\n\(daemon.logTail())")
            #expect(stack.cards[1].state.pin.triesLeft == 3)
        }
    }

    @Test("decryption with the authentication key: RSA-PKCS on both generations, RSA-X-509 on CPS4")
    func decryption() async throws {
        try await DaemonTest.withDaemon(cards: Self.cards) { _, daemon in
            let directory = TestCards.temporaryDirectory("cpsd-decrypt")
            defer { try? FileManager.default.removeItem(at: directory) }
            for (token, keyID, mechanism) in [
                (Self.cps3Label, DaemonTest.authID, "RSA-PKCS"), (Self.cps4Label, Self.cps4AuthID, "RSA-PKCS"),
                (Self.cps4Label, Self.cps4AuthID, "RSA-X-509"),
            ] {
                let failure = try GenerationSigning.decryptRoundTrip(
                    daemon, token: token, keyID: keyID, mechanism: mechanism, in: directory)
                #expect(failure == nil, "\(token) \(mechanism): \(failure ?? "")\n\(daemon.logTail())")
            }
        }
    }

    @Test("a CPS3 refuses what only a CPS4 makes: PSS and raw RSA are CKR_MECHANISM_INVALID there")
    func cps3RefusesPSS() async throws {
        try await DaemonTest.withDaemon(cards: Self.cards) { stack, daemon in
            let directory = TestCards.temporaryDirectory("cpsd-cps3pss")
            defer { try? FileManager.default.removeItem(at: directory) }
            // Raw RSA-PKCS-PSS and RSA-X-509 pass the p11-kit client: the refusal is cpsd's, from the driver's
            // capabilities (the same request signs on the CPS4 above).
            let digest = directory.appendingPathComponent("digest").path
            try Data(repeating: 0x42, count: 32).write(to: URL(fileURLWithPath: digest))
            for (keyID, options) in [
                (DaemonTest.sigID, ["-m", "RSA-PKCS-PSS", "--hash-algorithm", "SHA256", "--mgf", "MGF1-SHA256", "--salt-len", "32"]),
                (DaemonTest.authID, ["-m", "RSA-PKCS-PSS", "--hash-algorithm", "SHA256", "--mgf", "MGF1-SHA256", "--salt-len", "32"]),
                (DaemonTest.authID, ["-m", "RSA-X-509"]),
            ] {
                let result = try DaemonTest.tool(daemon, [
                    "--token-label", Self.cps3Label, "--sign", "--login", "--pin", "1234", "--id", keyID, "-i", digest,
                    "-o", directory.appendingPathComponent("sig").path,
                ] + options)
                #expect(result.status != 0)
                #expect(result.output.contains("CKR_MECHANISM_INVALID"), "\(options): \(result.output)")
            }
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}

/// pkcs11-tool and OpenSSL commands for every mechanism, with the token named by label.
enum GenerationSigning {
    static func tool(_ daemon: DaemonProcess, token: String, _ arguments: [String]) throws -> ToolRunner.Result {
        try DaemonTest.tool(daemon, ["--token-label", token] + arguments)
    }

    /// Reads the certificate of `keyID`, writes `name.pub`, the message `data`, its SHA-256 / SHA-1 digests
    /// and the SHA-256 DigestInfo `data.di`.
    static func prepare(_ daemon: DaemonProcess, token: String, keyID: String, name: String, in dir: String) throws -> String? {
        let cert = try tool(daemon, token: token, ["--read-object", "--type", "cert", "--id", keyID, "-o", "\(dir)/\(name).der"])
        guard cert.status == 0 else { return "read cert \(keyID): \(cert.output)" }
        let prepare = try ToolRunner.shell(
            "cd \(dir) && printf 'ordonnance 04/12' > data && openssl dgst -sha256 -binary data > data.sha256 "
                + "&& openssl x509 -inform DER -in \(name).der -pubkey -noout > \(name).pub")
        guard prepare.status == 0 else { return "prepare: \(prepare.output)" }
        // The SHA-256 DigestInfo (what TLS 1.2 hands CKM_RSA_PKCS) and its PKCS#1 v1.5 type-1 block (what a
        // caller of CKM_RSA_X_509 pads itself).
        let digest = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/data.sha256")))
        let digestInfo = SignatureHash.sha256.digestInfoPrefix + digest
        let block = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: 256 - 3 - digestInfo.count) + [0x00] + digestInfo
        try Data(digestInfo).write(to: URL(fileURLWithPath: "\(dir)/data.di"))
        try Data(block).write(to: URL(fileURLWithPath: "\(dir)/data.block"))
        return nil
    }

    static func signAndVerify(
        _ daemon: DaemonProcess, token: String, keyID: String, mechanism: String, in directory: URL
    ) throws -> String? {
        let dir = directory.path
        let name = "\(keyID.suffix(2))-\(mechanism)"
        if let failure = try prepare(daemon, token: token, keyID: keyID, name: name, in: dir) { return failure }
        var input = "\(dir)/data"
        var options: [String] = []
        let verify: String
        switch mechanism {
        case "RSA-PKCS":
            input = "\(dir)/data.di"
            verify = "openssl pkeyutl -verify -pubin -inkey \(name).pub -in data.di -sigfile \(name).sig"
        case "RSA-X-509":
            // The caller padded the DigestInfo itself: the raw signature is a valid RSA-PKCS one.
            input = "\(dir)/data.block"
            verify = "openssl pkeyutl -verify -pubin -inkey \(name).pub -in data.di -sigfile \(name).sig"
        case "SHA1-RSA-PKCS": verify = "openssl dgst -sha1 -verify \(name).pub -signature \(name).sig data"
        case "SHA256-RSA-PKCS": verify = "openssl dgst -sha256 -verify \(name).pub -signature \(name).sig data"
        default:  // RSA-PKCS-PSS over a SHA-256 digest the caller computed
            input = "\(dir)/data.sha256"
            options = ["--hash-algorithm", "SHA256", "--mgf", "MGF1-SHA256", "--salt-len", "32"]
            verify = "openssl pkeyutl -verify -pubin -inkey \(name).pub -in data.sha256 -sigfile \(name).sig "
                + "-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32"
        }
        let sign = try tool(daemon, token: token, [
            "--sign", "--login", "--pin", "1234", "--id", keyID, "-m", mechanism, "-i", input, "-o", "\(dir)/\(name).sig",
        ] + options)
        guard sign.status == 0 else { return "sign \(keyID) \(mechanism): \(sign.output)" }
        let check = try ToolRunner.shell("cd \(dir) && \(verify)")
        guard check.status == 0, check.stdout.contains("Verified") else { return "verify \(name): \(check.output)" }
        return nil
    }

    /// OpenSSL encrypts a secret with the certificate's key (PKCS#1 v1.5); cpsd decrypts it on the card.
    static func decryptRoundTrip(
        _ daemon: DaemonProcess, token: String, keyID: String, mechanism: String, in directory: URL
    ) throws -> String? {
        let dir = directory.path
        let name = "\(keyID.suffix(2))-dec-\(mechanism)"
        if let failure = try prepare(daemon, token: token, keyID: keyID, name: name, in: dir) { return failure }
        let encrypt = try ToolRunner.shell(
            "cd \(dir) && printf 'cle de session 0123456789' > secret "
                + "&& openssl pkeyutl -encrypt -pubin -inkey \(name).pub -in secret -out \(name).enc")
        guard encrypt.status == 0 else { return "encrypt: \(encrypt.output)" }
        let decrypt = try tool(daemon, token: token, [
            "--decrypt", "--login", "--pin", "1234", "--id", keyID, "-m", mechanism, "-i", "\(dir)/\(name).enc",
            "-o", "\(dir)/\(name).dec",
        ])
        guard decrypt.status == 0 else { return "decrypt: \(decrypt.output)" }
        let plain = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).dec"))
        let secret = Data("cle de session 0123456789".utf8)
        if mechanism == "RSA-X-509" {
            // The raw block: 00 02, non-zero padding, 00, then the secret.
            guard plain.count == 256, plain.prefix(2) == Data([0, 2]), plain.suffix(secret.count) == secret else {
                return "raw block \(plain.count) bytes does not end with the secret"
            }
            return nil
        }
        return plain == secret ? nil : "decrypted \(plain.count) bytes, not the secret"
    }
}

/// TLS 1.3 requires RSA-PSS client signatures (RFC 8446 §4.2.3): a CPS4 makes them, a CPS3 cannot.
@Suite("TLS 1.3 client authentication by card generation")
struct DaemonTLS13Tests {
    static let cps4Nickname = "\(DaemonGenerationsTests.cps4Label):Certificat d'Authentification CPS"

    @Test("a CPS4 completes an NSS TLS 1.3 handshake with client auth, signed rsa_pss_rsae_sha256 by the card")
    func cps4TLS13() async throws {
        try await DaemonTest.withDaemon(cards: [TestCards.cps4State()]) { stack, daemon in
            let run = try TLSHandshake.run(daemon, nickname: Self.cps4Nickname, server: "-tls1_3", client: "tls1.2:tls1.3")
            #expect(run.client.completed, "\(run.context)")
            #expect(run.client.stdout.contains("TLSv1.3"), "\(run.context)")
            #expect(run.client.stdout.contains("Verify return code: 0 (ok)"), "\(run.context)")
            #expect(run.client.stdout.contains(TestCards.defaultState.holder.surname), "\(run.context)")
            #expect(
                run.audits.contains {
                    $0.contains("key=CPS_PRIV_AUT") && $0.contains("mechanism=CKM_RSA_PKCS_PSS") && $0.contains("result=ok")
                }, "\(run.context)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("a CPS3 cannot sign PSS: against a TLS 1.3-only server no signature is made and no PIN try is spent")
    func cps3CannotDoTLS13() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let run = try TLSHandshake.run(
                daemon, nickname: DaemonNSSTests.authNickname, server: "-tls1_3", client: "tls1.2:tls1.3")
            #expect(!run.client.stdout.contains("Verify return code: 0 (ok)"), "\(run.context)")
            #expect(!run.audits.contains { $0.contains("result=ok") }, "\(run.context)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}
