import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// ANS's Cryptolib test plan as our conformance suite: Tests/Fixtures/ans-plan/ans-plan.c runs the plan's rows
/// (sections written so far) through cpsd's drop-in module (PKCS11Module/, built by scripts/build-pkcs11-module.sh)
/// on the matching personality, and every row run must answer the code real cards gave (the TSV files). The same
/// rows through the stock p11-kit client are listed where its answer differs: the reasons the module exists.
@Suite("ANS test plan through cpsd's drop-in module")
struct AnsTestPlanTests {
    static let root = DiagRun.repositoryRoot
    static let planDirectory = root.appendingPathComponent("../shared/reference/ans-test-plan").standardizedFileURL
    static let p11KitClient = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"

    /// The harness and the module, built once per test process.
    static let binaries: Result<(harness: String, module: String), any Error> = Result {
        let directory = TestCards.temporaryDirectory("cpsd-ans-plan")
        let harness = directory.appendingPathComponent("ans-plan").path
        let sources = [
            "ans-plan.c", "ans-plan-keys.c", "ans-plan-sign.c", "ans-plan-software.c", "ans-plan-data.c", "ans-plan-long.c",
        ].map {
            root.appendingPathComponent("Tests/Fixtures/ans-plan/\($0)").path
        }
        let cc = try ToolRunner.run(
            "/usr/bin/cc", ["-Wall", "-Werror", "-I/usr/include/p11-kit-1", "-o", harness] + sources + ["-ldl"],
            timeout: 120)
        guard cc.status == 0 else { throw RealStackError("cc ans-plan.c: \(cc.output)") }
        let module = directory.appendingPathComponent("libcps3_pkcs11_lux.so").path
        let build = try ToolRunner.run(
            root.appendingPathComponent("scripts/build-pkcs11-module.sh").path, [module], timeout: 120)
        guard build.status == 0 else { throw RealStackError("build-pkcs11-module.sh: \(build.output)") }
        return (harness, module)
    }

    @Test("every row run answers what the real card of that personality answered", arguments: ["cps3v3", "cps4v1"])
    func plan(personality: String) async throws {
        let (harness, module) = try Self.binaries.get()
        let expected = try AnsPlan.expectedCodes(Self.planDirectory.appendingPathComponent("\(personality).tsv"))
        let card = personality == "cps4v1" ? TestCards.cps4State() : TestCards.defaultState
        let cryptogram = try AnsPlan.cryptogram(for: card.authenticationCertificateDER)
        try await DaemonTest.withDaemon(cards: [card]) { stack, daemon in
            let ours = try AnsPlan.run(
                harness, module: module, cryptogram: cryptogram, personality: personality, environment: daemon.environment)
            // Every row but the two that need a person at the reader (1200-1201: insert a mute card).
            #expect(Set(expected.keys).subtracting(ours.keys) == [1200, 1201], "rows not run")
            for (number, rv) in ours.sorted(by: { $0.key < $1.key }) {
                guard let want = expected[number] else {
                    Issue.record("row \(number) is not in \(personality).tsv")
                    continue
                }
                #expect(rv == want.code, "row \(number) (\(want.function), \(want.label)): \(AnsPlan.name(rv)), plan says \(want.name)")
            }
            // What p11-kit's own client answers differently on the same rows: printed, not asserted.
            let stock = try AnsPlan.run(
                harness, module: Self.p11KitClient, cryptogram: cryptogram, personality: personality,
                environment: daemon.environment)
            let deviations = stock.filter { row in expected[row.key].map { $0.code != row.value } ?? false }
            print("\(personality): \(ours.count) of \(expected.count) plan rows run through cpsd's module; "
                + "p11-kit's client alone differs on rows "
                + deviations.keys.sorted().map { "\($0) (\(AnsPlan.name(deviations[$0] ?? 0)))" }.joined(separator: ", "))
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}

/// The plan's TSV rows and the harness's output.
enum AnsPlan {
    struct Expected {
        var function: String
        var name: String
        var code: UInt
        var label: String
    }

    /// CKR names → values, from p11-kit's pkcs11.h (the header the harness is compiled with).
    static let codes: [String: UInt] = {
        guard let header = try? String(contentsOfFile: "/usr/include/p11-kit-1/p11-kit/pkcs11.h", encoding: .utf8)
        else { return [:] }
        var codes: [String: UInt] = [:]
        let pattern = try? NSRegularExpression(pattern: #"#define\s+(CKR_[A-Z0-9_]+)\s+\((0x[0-9a-fA-F]+|[0-9]+)UL\)"#)
        for match in pattern?.matches(in: header, range: NSRange(header.startIndex..., in: header)) ?? [] {
            guard let name = Range(match.range(at: 1), in: header), let value = Range(match.range(at: 2), in: header)
            else { continue }
            let text = String(header[value])
            codes[String(header[name])] = text.hasPrefix("0x") ? UInt(text.dropFirst(2), radix: 16) : UInt(text)
        }
        return codes
    }()

    static func name(_ code: UInt) -> String {
        codes.first { $0.value == code }?.key ?? "0x" + String(code, radix: 16)
    }

    static func expectedCodes(_ tsv: URL) throws -> [Int: Expected] {
        var rows: [Int: Expected] = [:]
        for line in try String(contentsOf: tsv, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4, let number = Int(fields[0]), let code = codes[fields[2]] else { continue }
            rows[number] = Expected(function: fields[1], name: fields[2], code: code, label: fields[3])
        }
        return rows
    }

    /// A PKCS#1 v1.5 cryptogram of a short secret for the certificate's key, made by OpenSSL (section 500).
    static func cryptogram(for certificateDER: [UInt8]) throws -> String {
        let directory = TestCards.temporaryDirectory("cpsd-ans-cryptogram")
        try Data(certificateDER).write(to: directory.appendingPathComponent("auth.der"))
        let made = try ToolRunner.shell(
            "cd \(directory.path) && printf 'cle de session' > secret && openssl x509 -inform DER -in auth.der "
                + "-pubkey -noout > auth.pub && openssl pkeyutl -encrypt -pubin -inkey auth.pub -in secret -out cryptogram")
        guard made.status == 0 else { throw RealStackError("openssl: \(made.output)") }
        return directory.appendingPathComponent("cryptogram").path
    }

    /// Runs the harness against `module`; row number → return code.
    static func run(
        _ harness: String, module: String, cryptogram: String, personality: String, environment: [String: String]
    ) throws -> [Int: UInt] {
        let generation = personality == "cps4v1" ? ["cps4"] : []
        let result = try ToolRunner.run(
            harness, [module, "1234", cryptogram] + generation, environment: environment, timeout: 180)
        guard result.status == 0 else { throw RealStackError("ans-plan \(module): \(result.output)") }
        var rows: [Int: UInt] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "row", let number = Int(words[1]),
                let code = UInt(words[2].dropFirst(2), radix: 16)
            else { continue }
            rows[number] = code
        }
        return rows
    }
}
