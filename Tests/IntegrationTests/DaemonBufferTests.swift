import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// Issue 10, item 2: a card cannot make cpsd write past a buffer. A faulty personalisation whose key
/// directory (PrKDF) declares another key size than the key really has must not decide how many bytes
/// cpsd announces or writes: the certificate's modulus does. With `CPSD_EXECUTABLE` pointing at an
/// address-sanitizer build (scripts/asan-check.sh), these tests also prove no out-of-bounds write.
@Suite("cpsd sizes signatures from the certificate, not the card's key directory")
struct DaemonBufferTests {
    /// The C consumer of Tests/Fixtures/pkcs11-sign-buffers.c, built once per test process.
    static let client: Result<String, any Error> = Result {
        let source = DiagRun.repositoryRoot.appendingPathComponent("Tests/Fixtures/pkcs11-sign-buffers.c").path
        let binary = TestCards.temporaryDirectory("cpsd-buffers").appendingPathComponent("pkcs11-sign-buffers").path
        let build = try ToolRunner.run(
            "/usr/bin/cc", ["-Wall", "-I/usr/include/p11-kit-1", "-o", binary, source, "-ldl"], timeout: 120)
        guard build.status == 0 else { throw RealStackError("cc failed: \(build.output)") }
        return binary
    }

    /// Runs the C client against a cpsd serving one card made from `state`; returns its lines by step.
    static func run(_ state: CardState) async throws -> (steps: [String: [String]], log: String) {
        let binary = try client.get()
        return try await RealStack.withStack { stack in
            try stack.insertFreshCard(state, reader: 0)
            try stack.removeCard(reader: 1)
            let daemon = try DaemonProcess(environment: stack.environment)
            defer { _ = daemon.stop() }
            try DaemonTest.waitForTokens(daemon, count: 1)
            let result = try ToolRunner.run(
                binary, [DaemonProcess.clientModule, "1234", DaemonTest.authID], environment: daemon.environment)
            var steps: [String: [String]] = [:]
            for line in result.stdout.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if let step = words.first { steps[step] = Array(words.dropFirst()) }
            }
            #expect(!daemon.hasExited, "cpsd died:\n\(daemon.logTail())")
            #expect(steps["error"] == nil, "\(result.output)\n\(daemon.logTail())")
            return (steps, daemon.log)
        }
    }

    @Test("a PrKDF declaring 1024 bits for a 2048-bit key: 256 bytes announced, too small refused, no overrun")
    func declaredSmallerThanTheKey() async throws {
        var state = TestCards.defaultState
        state.declaredModulusBits = 1024
        let (steps, _) = try await Self.run(state)
        #expect(steps["length"] == ["256"])
        #expect(steps["small"] == ["0x150", "256"], "CKR_BUFFER_TOO_SMALL with the length needed")
        #expect(steps["sign"] == ["0x0", "256", "0"])
    }

    @Test("a PrKDF declaring an absurd key size (2^62 bits) does not trap cpsd")
    func declaredAbsurdlyLarge() async throws {
        var state = TestCards.defaultState
        state.declaredModulusBits = 1 << 62
        let (steps, _) = try await Self.run(state)
        #expect(steps["length"] == ["256"])
        #expect(steps["sign"] == ["0x0", "256", "0"])
    }
}
