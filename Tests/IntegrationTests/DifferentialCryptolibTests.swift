import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// One PKCS#11 client (Tests/Fixtures/differential/p11-dump.c) run on the vendor's Cryptolib 5.2.2 and on cpsd
/// (its drop-in module at Cryptolib's path, through the daemon), each on a fresh virtual card of the same
/// personality: library, slot and token info, every object with every attribute before and after login, the
/// mechanism list with flags, deterministic operations (PKCS#1 v1.5 signatures, digests, a decryption) and
/// the return codes of error cases. The outputs must be the same line for line, except the differences
/// listed, each with its reason, in Tests/Fixtures/differential/known-differences.tsv; and every listed
/// difference must still occur, so that the list stays short and true.
@Suite("The same PKCS#11 client on Cryptolib 5.2.2 and on cpsd", .serialized)
struct DifferentialCryptolibTests {
    static let fixtures = DiagRun.repositoryRoot.appendingPathComponent("Tests/Fixtures/differential")

    static let client: Result<String, any Error> = Result {
        let binary = TestCards.temporaryDirectory("cpsd-differential").appendingPathComponent("p11-dump").path
        let sources = ["p11-dump.c", "p11-dump-cases.c", "p11-dump-names.c"].map { fixtures.appendingPathComponent($0).path }
        let build = try ToolRunner.run(
            "/usr/bin/cc", ["-Wall", "-Werror", "-I/usr/include/p11-kit-1", "-o", binary] + sources + ["-ldl", "-lcrypto"],
            timeout: 120)
        guard build.status == 0 else { throw RealStackError("cc p11-dump.c: \(build.output)") }
        return binary
    }

    @Test("outputs identical but for the documented differences", arguments: ["CPS3", "CPS4"])
    func sameAnswers(generation: String) async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        let binary = try Self.client.get()
        let card = generation == "CPS4" ? TestCards.cps4State() : TestCards.defaultState
        var vendorOutput = ""
        try await CryptolibInteropTests.withCard(card) { stack, directory in
            let run = try Cryptolib.run("\"\(binary)\" \"$M\" 1234", stack: stack, in: directory)
            #expect(run.result.status == 0, "Cryptolib: \(run.result.output)")
            vendorOutput = run.result.stdout
        }
        let (_, module) = try AnsTestPlanTests.binaries.get()
        var cpsdOutput = ""
        try await DaemonTest.withDaemon(cards: [card]) { stack, daemon in
            let run = try ToolRunner.run(
                DiagRun.repositoryRoot.appendingPathComponent("scripts/module-env.sh").path,
                ["--module", module, "--", binary, LGCSequenceTests.vendorPath, "1234"],
                environment: daemon.environment, timeout: 180)
            #expect(run.status == 0, "cpsd: \(run.output)\n\(daemon.logTail())")
            cpsdOutput = run.stdout
        }
        // Kept for whoever reads a failure: the two outputs side by side.
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("cpsd-differential-\(generation)")
        try? FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        try? vendorOutput.write(to: kept.appendingPathComponent("cryptolib.txt"), atomically: true, encoding: .utf8)
        try? cpsdOutput.write(to: kept.appendingPathComponent("cpsd.txt"), atomically: true, encoding: .utf8)
        let vendor = DumpOutput(vendorOutput), cpsd = DumpOutput(cpsdOutput)
        // Both runs got far: a run that stopped early would hide every difference after it.
        #expect(vendor.values["finalize"] == "CKR_OK" && cpsd.values["finalize"] == "CKR_OK", "a run stopped early")
        #expect(vendor.values.count > 300, "Cryptolib printed \(vendor.values.count) lines")
        #expect(vendor.duplicates.isEmpty && cpsd.duplicates.isEmpty, "keys printed twice: \(vendor.duplicates) \(cpsd.duplicates)")
        let known = try KnownDifferences.load(Self.fixtures.appendingPathComponent("known-differences.tsv"), generation)
        let differences = vendor.differences(from: cpsd)
        let unexplained = differences.filter { difference in !known.contains { $0.matches(difference.key) } }
        let listing = unexplained.map(\.description).joined(separator: "\n")
        #expect(
            unexplained.isEmpty,
            "\(generation): \(unexplained.count) differences not in known-differences.tsv (outputs in \(kept.path)):\n\(listing)")
        let unused = known.filter { entry in !differences.contains { entry.matches($0.key) } }
        #expect(unused.isEmpty, "listed differences that no longer occur: \(unused.map(\.pattern))")
        let reasons = Set(differences.compactMap { difference in known.first { $0.matches(difference.key) }?.pattern })
        print("\(generation): \(vendor.values.count) lines compared, \(differences.count) differ, all listed: \(reasons.sorted())")
    }
}

/// The client's output as key → value (the first word of a line is its key, unique within a run).
struct DumpOutput {
    var values: [String: String] = [:]
    var order: [String] = []
    var duplicates: [String] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let key = parts.first.map(String.init) else { continue }
            // Keys are unique by construction; a repeated one would hide a comparison, so it is kept apart.
            if values[key] != nil { duplicates.append(key) }
            if values[key] == nil { order.append(key) }
            values[key] = parts.count > 1 ? String(parts[1]) : ""
        }
    }

    struct Difference: CustomStringConvertible {
        let key: String
        let vendor: String?
        let cpsd: String?
        var description: String { "  \(key)\n    Cryptolib: \(vendor ?? "(absent)")\n    cpsd:      \(cpsd ?? "(absent)")" }
    }

    func differences(from other: DumpOutput) -> [Difference] {
        let keys = order + other.order.filter { values[$0] == nil }
        return keys.compactMap { key in
            values[key] == other.values[key] ? nil : Difference(key: key, vendor: values[key], cpsd: other.values[key])
        }
    }
}

/// known-differences.tsv: `generation<TAB>key pattern<TAB>reason`; `*` in a pattern matches any run of
/// characters; generation `*` is both.
struct KnownDifferences {
    let pattern: String
    let reason: String

    static func load(_ file: URL, _ generation: String) throws -> [KnownDifferences] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, !line.hasPrefix("#"), fields[0] == "*" || fields[0] == generation else { return nil }
            return KnownDifferences(pattern: fields[1], reason: fields[2])
        }
    }

    func matches(_ key: String) -> Bool {
        var pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)[...]
        guard let first = pieces.popFirst(), key.hasPrefix(first) else { return false }
        var rest = key.dropFirst(first.count)
        guard let last = pieces.popLast() else { return rest.isEmpty }
        for piece in pieces {
            guard let range = rest.range(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(last) && rest.count >= last.count
    }
}
