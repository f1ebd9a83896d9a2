import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard

/// OpenSC's pkcs11-tool, loading only p11-kit-client.so, against a running cpsd on the real stack:
/// what a stock PKCS#11 consumer sees of the CPS3 and its signatures, checked by OpenSSL.
@Suite("cpsd through pkcs11-tool")
struct DaemonPKCS11ToolTests {
    @Test("-L: cpsd's token with Cryptolib's label, manufacturer and model")
    func listSlots() async throws {
        try await DaemonTest.withDaemon { _, daemon in
            let result = try DaemonTest.tool(daemon, ["-L"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.stdout.contains("token label        : \(DaemonTest.tokenLabel)"), "\(result.stdout)")
            #expect(result.stdout.contains("token manufacturer : ASIP SANTE"), "\(result.stdout)")
            #expect(result.stdout.contains("token model        : IAS ECC"), "\(result.stdout)")
            // Both readers of the stack hold a card: two tokens.
            #expect(result.stdout.components(separatedBy: "token label").count == 3, "\(result.stdout)")
        }
    }

    @Test("-O: public objects only before login; after --login the two private keys appear")
    func listObjects() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let before = try DaemonTest.tool(daemon, ["-O"])
            #expect(before.status == 0, "\(before.output)")
            #expect(!before.stdout.contains("Private Key Object"), "\(before.stdout)")
            // Cryptolib labels the public keys "Cle publique - <certificate label>" (cryptolib-pkcs11.md §5.2).
            #expect(before.stdout.components(separatedBy: "Certificate Object").count == 3, "\(before.stdout)")
            #expect(before.stdout.components(separatedBy: "Public Key Object").count == 3, "\(before.stdout)")
            for label in [
                "Certificat d'Authentification CPS", "Certificat de Signature CPS",
                "Cle publique - Certificat d'Authentification CPS", "Cle publique - Certificat de Signature CPS",
            ] {
                #expect(before.stdout.contains("label:      \(label)"), "\(label) missing:\n\(before.stdout)")
            }

            let after = try DaemonTest.tool(daemon, ["--login", "--pin", "1234", "-O"])
            #expect(after.status == 0, "\(after.output)")
            #expect(after.stdout.components(separatedBy: "Private Key Object").count == 3, "\(after.stdout)")
            for label in ["CPS_PRIV_AUT", "CPS_PRIV_SIG"] {
                #expect(after.stdout.contains("label:      \(label)"), "\(label) missing:\n\(after.stdout)")
            }
            #expect(after.stdout.contains("ID:         \(DaemonTest.authID)"))
            #expect(after.stdout.contains("ID:         \(DaemonTest.sigID)"))
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test(
        "--sign with each valid key and mechanism; OpenSSL verifies with the token's certificate",
        arguments: [
            (DaemonTest.authID, "RSA-PKCS"), (DaemonTest.sigID, "RSA-PKCS"),
            (DaemonTest.sigID, "SHA1-RSA-PKCS"), (DaemonTest.sigID, "SHA256-RSA-PKCS"),
        ])
    func signAndVerify(keyID: String, mechanism: String) async throws {
        try await DaemonTest.withDaemon(singleCard: true) { stack, daemon in
            let directory = TestCards.temporaryDirectory("cpsd-p11sign")
            defer { try? FileManager.default.removeItem(at: directory) }
            let failure = try DaemonTest.signAndVerify(daemon, keyID: keyID, mechanism: mechanism, in: directory)
            #expect(failure == nil, "\(failure ?? "")\n\(daemon.logTail())")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }

    @Test("SHA256-RSA-PKCS on the authentication key fails with CKR_KEY_TYPE_INCONSISTENT")
    func hashMechanismOnAuthKey() async throws {
        try await DaemonTest.withDaemon(singleCard: true) { _, daemon in
            let directory = TestCards.temporaryDirectory("cpsd-p11sign")
            defer { try? FileManager.default.removeItem(at: directory) }
            let data = directory.appendingPathComponent("data").path
            try "ordonnance".write(toFile: data, atomically: true, encoding: .utf8)
            let result = try DaemonTest.tool(daemon, [
                "--sign", "--login", "--pin", "1234", "--id", DaemonTest.authID, "-m", "SHA256-RSA-PKCS", "-i", data,
                "-o", directory.appendingPathComponent("sig").path,
            ])
            #expect(result.status != 0)
            #expect(result.output.contains("CKR_KEY_TYPE_INCONSISTENT"), "\(result.output)")
        }
    }
}
