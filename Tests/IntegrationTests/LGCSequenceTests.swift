import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// Practice software as it uses Cryptolib: Tests/Fixtures/lgc-sequence.c dlopens the module by the vendor's
/// fixed path, where scripts/module-env.sh bind-mounts cpsd's drop-in (private mount namespace, host untouched),
/// reads the identity and certificates without the PIN, logs in, reads a practice situation and the billing
/// situation, and signs with CKM_SHA256_RSA_PKCS on the signature key; OpenSSL verifies the signature.
@Suite("A practice-software sequence through cpsd's module at Cryptolib's path")
struct LGCSequenceTests {
    static let vendorPath = "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so"

    static let client: Result<String, any Error> = Result {
        let source = DiagRun.repositoryRoot.appendingPathComponent("Tests/Fixtures/lgc-sequence.c").path
        let binary = TestCards.temporaryDirectory("cpsd-lgc").appendingPathComponent("lgc-sequence").path
        let build = try ToolRunner.run(
            "/usr/bin/cc", ["-Wall", "-Werror", "-I/usr/include/p11-kit-1", "-o", binary, source, "-ldl"], timeout: 120)
        guard build.status == 0 else { throw RealStackError("cc lgc-sequence.c: \(build.output)") }
        return binary
    }

    @Test("C_Initialize(NULL) … C_Finalize: every step CKR_OK, values read, signature verified", arguments: ["CPS3", "CPS4"])
    func sequence(generation: String) async throws {
        let binary = try Self.client.get()
        let hostHadCryptolib = FileManager.default.fileExists(atPath: "/opt/santesocial")
        let (_, module) = try AnsTestPlanTests.binaries.get()
        let card = generation == "CPS4" ? TestCards.cps4State() : TestCards.defaultState
        let directory = TestCards.temporaryDirectory("cpsd-lgc-run")
        defer { try? FileManager.default.removeItem(at: directory) }
        let message = directory.appendingPathComponent("message")
        try Data("feuille de soins électronique".utf8).write(to: message)
        let signature = directory.appendingPathComponent("signature").path
        try Data(card.signatureCertificateDER).write(to: directory.appendingPathComponent("sig.der"))
        try await DaemonTest.withDaemon(cards: [card]) { stack, daemon in
            let run = try ToolRunner.run(
                DiagRun.repositoryRoot.appendingPathComponent("scripts/module-env.sh").path,
                ["--module", module, "--", binary, Self.vendorPath, "1234", message.path, signature],
                environment: daemon.environment, timeout: 120)
            #expect(run.status == 0, "\(run.output)")
            var steps: [String: [String]] = [:]
            for line in run.stdout.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if let step = words.first { steps[step] = Array(words.dropFirst()) }
            }
            for step in [
                "initialize", "slots", "session", "id-card", "auth-certificate", "sig-certificate", "login", "activity-01",
                "billing", "sign", "logout", "finalize",
            ] {
                #expect(steps[step]?.first == "0x0", "\(step): \(steps[step] ?? [])\n\(run.output)\n\(daemon.logTail())")
            }
            for step in ["id-card", "activity-01", "billing"] {
                #expect((Int(steps[step]?.last ?? "") ?? 0) > 0, "\(step) has a value: \(steps[step] ?? [])")
            }
            #expect(steps["auth-certificate"]?.last == "\(card.authenticationCertificateDER.count)")
            #expect(steps["sign"]?.last == "256")
            let verify = try ToolRunner.shell(
                "cd \(directory.path) && openssl x509 -inform DER -in sig.der -pubkey -noout > sig.pub && "
                    + "openssl dgst -sha256 -verify sig.pub -signature \(signature) \(message.path)")
            #expect(verify.stdout.contains("Verified OK"), "\(verify.output)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
        #expect(FileManager.default.fileExists(atPath: "/opt/santesocial") == hostHadCryptolib, "the host's /opt changed")
    }
}
