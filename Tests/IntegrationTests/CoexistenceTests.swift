import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// cpsd and the vendor's middleware on the same reader at the same time, as on a workstation where one practice
/// software still loads Cryptolib while the browser goes through cpsd: both keep working, and nobody's try is spent.
/// (Cryptolib keeps the card verified after its login and takes a reset for a card swap; cpsd leaves a card it
/// found verified as it found it: see README "Beside Cryptolib". Before anyone has verified the card, a
/// Cryptolib call in flight while cpsd resets can fail once — Cryptolib's limit, so the test starts once
/// Cryptolib has logged in, as a practice software does when it starts.)
@Suite("cpsd beside Cryptolib 5.2.2 on one reader", .serialized)
struct CoexistenceTests {
    @Test("Cryptolib logged in, one signs through cpsd while the other lists, logs in and signs: neither fails, no try is spent")
    func bothAtOnce() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        let directory = TestCards.temporaryDirectory("cpsd-coexistence")
        defer { try? FileManager.default.removeItem(at: directory) }
        let message = Data((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try message.write(to: directory.appendingPathComponent("msg"))
        try CryptolibInteropTests.writeDigestInfo(of: message, to: directory.appendingPathComponent("msg.di"))
        try await DaemonTest.withDaemon(cards: [TestCards.defaultState]) { stack, daemon in
            let first = try Cryptolib.run("\(Cryptolib.tool) --login --pin 1234 -O >/dev/null", stack: stack, in: directory)
            #expect(first.result.status == 0, "Cryptolib's first login: \(first.result.output)")
            // Cryptolib's rounds run on a thread of their own while this one drives cpsd.
            let vendor = VendorRounds(stack: stack, directory: directory)
            async let vendorOutcome = vendor.run()
            var cpsdFailures: [String] = []
            for round in 0..<4 {
                let listing = try DaemonTest.tool(daemon, ["-L"])
                if listing.status != 0 { cpsdFailures.append("cpsd -L \(round): \(listing.output)") }
                let sign = try DaemonTest.tool(daemon, [
                    "--sign", "--login", "--pin", "1234", "--id", DaemonTest.authID, "-m", "RSA-PKCS",
                    "-i", directory.appendingPathComponent("msg.di").path,
                    "-o", directory.appendingPathComponent("cpsd-\(round).sig").path,
                ])
                if sign.status != 0 { cpsdFailures.append("cpsd sign \(round): \(sign.output)") }
            }
            let vendorRun = try await vendorOutcome
            #expect(cpsdFailures.isEmpty, "\(cpsdFailures)\n\(daemon.logTail())")
            #expect(
                vendorRun.result.status == 0,
                "Cryptolib: \(vendorRun.result.output)\nits last exchanges:\n\(vendorRun.exchanges.suffix(16).map(\.description).joined(separator: "\n"))")
            // Every signature, from either middleware, verifies with the card's certificate.
            let key = try CryptolibInteropTests.publicKey(stack.cards[0].state.authenticationCertificateDER, "aut", in: directory)
            for name in (0..<4).map({ "cpsd-\($0).sig" }) + (0..<3).map({ "vendor-\($0).sig" }) {
                let check = try ToolRunner.shell(
                    "cd '\(directory.path)' && openssl pkeyutl -verify -pubin -inkey \(key) -in msg.di -sigfile \(name)")
                #expect(check.stdout.contains("Verified"), "\(name): \(check.output)")
            }
            // No try spent by anyone, and cpsd's token says so.
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            let info = try DaemonTest.tool(daemon, ["-T"])
            #expect(!info.stdout.contains("count low") && !info.stdout.contains("locked"), "\(info.stdout)")
        }
    }
}

extension CoexistenceTests {
    @Test("a try spent, then restored, through Cryptolib shows in cpsd's token flags; cpsd keeps no stale counter")
    func countersStayTrue() async throws {
        if let missing = Cryptolib.missing { Issue.record("missing \(missing)"); return }
        let directory = TestCards.temporaryDirectory("cpsd-coexistence-counters")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await DaemonTest.withDaemon(cards: [TestCards.defaultState]) { stack, daemon in
            // cpsd reads the counters at most once a second for C_GetTokenInfo: each look waits that out.
            let cpsdFlags = { () throws -> String in
                Thread.sleep(forTimeInterval: 1.2)
                return try DaemonTest.tool(daemon, ["-T"]).stdout
            }
            #expect(!(try cpsdFlags()).contains("count low"))
            let wrong = try Cryptolib.run("\(Cryptolib.tool) --login --pin 0000 -O || true", stack: stack, in: directory)
            #expect(wrong.exchanges.contains { $0.statusWord == 0x63C2 }, "Cryptolib's VERIFY: \(wrong.exchanges)")
            #expect(stack.cards[0].state.pin.triesLeft == 2)
            let afterWrong = try cpsdFlags()
            #expect(afterWrong.contains("user PIN count low"), "cpsd after Cryptolib's wrong PIN:\n\(afterWrong)")
            let right = try Cryptolib.run("\(Cryptolib.tool) --login --pin 1234 -O >/dev/null", stack: stack, in: directory)
            #expect(right.result.status == 0, "\(right.result.output)")
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            let afterRight = try cpsdFlags()
            #expect(!afterRight.contains("count low"), "cpsd after Cryptolib's right PIN:\n\(afterRight)")
            // And cpsd still signs (its own login, verified inside its own transaction).
            let sign = try DaemonTest.tool(daemon, [
                "--sign", "--login", "--pin", "1234", "--id", DaemonTest.authID, "-m", "RSA-PKCS",
                "-i", "/etc/hostname", "-o", directory.appendingPathComponent("s").path,
            ])
            #expect(sign.status == 0, "\(sign.output)\n\(daemon.logTail())")
        }
    }
}

/// Cryptolib's side of the test: three rounds of listing, login and signature, one process each, waited for on a
/// thread of its own (never on the concurrency pool).
struct VendorRounds: Sendable {
    let stack: RealStack
    let directory: URL

    func run() async throws -> Cryptolib.Run {
        let script = (0..<3).map { round in
            "\(Cryptolib.tool) -L >/dev/null && \(Cryptolib.tool) --login --pin 1234 --sign -m RSA-PKCS "
                + "--id \(Cryptolib.authenticationKeyID) -i msg.di -o vendor-\(round).sig"
        }.joined(separator: "\n")
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try Cryptolib.run(script, stack: stack, in: directory, timeout: 180) })
            }.start()
        }
    }
}
