import CardTestSupport
import Foundation
import SmartCardCore
import Testing
import VirtualCard
import VirtualReaderStack

/// `cpsctl readers`, `readers --watch` and `apdu` as a user runs them, against the real stack.
@Suite("cpsctl readers and apdu")
struct CPSCtlReaderTests {
    static let cpsctl = ToolRunner.executable("cpsctl")

    @Test("readers --json reports the virtual reader with the CPS3 ATR and recognises it")
    func readersJSON() async throws {
        try await RealStack.withStack { stack in
            let result = try ToolRunner.run(Self.cpsctl, ["readers", "--json"], environment: stack.environment)
            #expect(result.status == 0, "\(result.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let readers = try #require(report?["readers"] as? [[String: Any]])
            let reader = try #require(readers.first { $0["name"] as? String == stack.readerName(0) })
            #expect(reader["atr"] as? String == "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00")
            #expect(reader["cardKind"] as? String == "CPS3")
            #expect(reader["cardPresent"] as? Bool == true)
        }
    }

    @Test("without pcscd, cpsctl says so and how to start it")
    func noPcscd() throws {
        let result = try ToolRunner.run(
            Self.cpsctl, ["readers"], environment: ["PCSCLITE_CSOCK_NAME": "/tmp/cpsd-no-such-pcscd.comm"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("pcscd"))
        #expect(result.stderr.contains("systemctl start pcscd"))
    }

    @Test("readers --watch prints a removal and an insertion as they happen")
    func watch() async throws {
        try await RealStack.withStack { stack in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.cpsctl)
            process.arguments = ["readers", "--watch", "--json"]
            process.environment = ProcessInfo.processInfo.environment.merging(stack.environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            let lines = LineReader(output.fileHandleForReading)
            let name = stack.readerName(1)
            // The current state first.
            _ = try lines.next(until: { $0.contains("card-inserted") && $0.contains(name) })
            let clock = ContinuousClock()
            let removedAt = clock.now
            stack.stack.removeCard(reader: 1)
            let removed = try lines.next(until: { $0.contains(name) })
            let removalLatency = clock.now - removedAt
            #expect(removed.contains("\"card-removed\""))
            let insertedAt = clock.now
            stack.stack.insertCard(stack.cards[1], reader: 1)
            let inserted = try lines.next(until: { $0.contains(name) })
            let insertionLatency = clock.now - insertedAt
            #expect(inserted.contains("\"card-inserted\"") && inserted.contains("\"CPS3\""))
            print("readers --watch: removal seen after \(removalLatency), insertion after \(insertionLatency)")
        }
    }

    @Test("apdu sends raw commands and refuses a PIN on the command line")
    func apdu() async throws {
        try await RealStack.withStack { stack in
            let select = try ToolRunner.run(
                Self.cpsctl, ["apdu", "--reader", stack.readerName(0), "00A4000C023F00", "00CB3FFF0A4D087006BF810102A08000"],
                environment: stack.environment)
            #expect(select.status == 0, "\(select.stderr)")
            #expect(select.stdout.contains("< 9000"))
            #expect(select.stdout.contains("< 61"), "T=0: GET DATA answers 61xx when not asked to fetch the rest")
            let verify = try ToolRunner.run(
                Self.cpsctl, ["apdu", "--reader", stack.readerName(0), "002000010431323334"], environment: stack.environment)
            #expect(verify.status != 0)
            #expect(verify.stderr.contains("cpsctl pin"))
            #expect(stack.cards[0].state.pin.triesLeft == 3)
            // Every security command is refused before the card is touched, with or without data: VERIFY
            // (counter form too), CHANGE, RESET RETRY COUNTER, MSE SET, PSO CDS / HASH, INTERNAL AUTHENTICATE.
            let refused = [
                "00200001", "00240001083132333435363738", "002C02010431323334", "002241B606840181800142",
                "002A9E9A00", "002A90A00480020000", "0088000004AABBCCDD00",
            ]
            for apdu in refused {
                let result = try ToolRunner.run(
                    Self.cpsctl, ["apdu", "--reader", stack.readerName(0), "00A4000C023F00", apdu],
                    environment: stack.environment)
                #expect(result.status != 0, "\(apdu) was sent")
                #expect(result.stderr.contains("Refusing to send"), "\(apdu): \(result.stderr)")
                #expect(!result.stdout.contains("< 9000"), "\(apdu): the SELECT before it went out: \(result.stdout)")
            }
            #expect(stack.cards[0].state.pin.triesLeft == 3)
        }
    }
}

/// Reads lines from a pipe with a deadline, for long-running child processes.
final class LineReader: @unchecked Sendable {
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line satisfying `predicate`, skipping others; fails after `timeout` seconds.
    func next(timeout: Double = 5, until predicate: (String) -> Bool) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if predicate(line) { return line }
                continue
            }
            let chunk = try readChunk(before: deadline)
            guard !chunk.isEmpty else { break }
            buffer.append(chunk)
        }
        throw RealStackError("no matching line before the deadline; buffered: \(String(decoding: buffer, as: UTF8.self))")
    }

    private func readChunk(before deadline: Date) throws -> Data {
        var descriptor = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        guard poll(&descriptor, 1, milliseconds) > 0 else { return Data() }
        return handle.availableData
    }
}
