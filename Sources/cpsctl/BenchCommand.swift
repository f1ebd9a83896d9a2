import ArgumentParser
import Foundation
import PCSC
import SmartCardCore

/// `cpsctl bench`: benchmarks that print figures (never pass/fail).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure round-trip times through the real stack.",
        subcommands: [APDUBench.self, CardBench.self, PKCS11Bench.self, PKCS11BenchWorker.self, BridgeBench.self]
    )
}

/// `cpsctl bench apdu`: round trip of a SELECT and of a 0xE7-byte READ BINARY through pcscd.
struct APDUBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apdu",
        abstract: "Median and p95 round-trip time of SELECT and of a 0xE7-byte READ BINARY."
    )

    @OptionGroup var selection: ReaderSelection

    @Option(name: .long, help: "Exchanges measured per command.")
    var iterations = 1000

    @Option(
        name: .long,
        help: "Path (hex, from 3F00) of a file of at least 231 bytes for READ BINARY; default: the authentication certificate.")
    var file = BenchFiles.defaultReadPath

    func validate() throws {
        guard iterations >= 10 else { throw ValidationError("--iterations must be at least 10.") }
        guard let path = Hex.bytes(file), path.count >= 4, path.count % 2 == 0, path.starts(with: [0x3F, 0x00]) else {
            throw ValidationError("--file must be a hex path starting with 3F00, e.g. 3F0000017011.")
        }
    }

    func run() async throws {
        let connection = try selection.connect(backend: PCSCBackend())
        defer { connection.disconnect(.leave) }
        let path = Hex.bytes(file)!
        try CLIError.wrap {
            try connection.withTransaction { session in
                let select = BenchFiles.selectMF
                let selectTimes = try measure(iterations) { try expectSuccess(session.transmit(select), "SELECT MF") }
                let selectFile = BenchFiles.selectPath(path)
                try expectSuccess(session.transmit(selectFile), "SELECT \(file)")
                let read = CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 0xE7)
                let readTimes = try measure(iterations) { try expectSuccess(session.transmit(read), "READ BINARY") }
                print("reader: \(connection.readerName)")
                print("iterations: \(iterations) per command (one transaction, pcscd + driver + card)")
                print(LatencyStatistics.line(label: "SELECT MF (00 A4 00 0C 02 3F 00)", samples: selectTimes))
                print(LatencyStatistics.line(label: "READ BINARY 0xE7 bytes", samples: readTimes))
            }
        }
    }

    private func measure(_ count: Int, _ body: () throws -> Void) throws -> [Duration] {
        let clock = ContinuousClock()
        try body()  // warm-up
        return try (0..<count).map { _ in try clock.measure(body) }
    }

    private func expectSuccess(_ response: ResponseAPDU, _ what: String) throws {
        guard response.statusWord.isSuccess else {
            throw CLIError("\(what) answered \(response.statusWord); is this a CPS3 card?")
        }
    }
}

enum BenchFiles {
    /// SELECT MF by FID, no response data (cps3-card.md §5).
    static let selectMF = CommandAPDU(ins: 0xA4, p1: 0x00, p2: 0x0C, data: [0x3F, 0x00])
    /// The authentication certificate EF of the virtual card, under the IAS application DF 0001.
    static let defaultReadPath = "3F0000017011"

    /// SELECT by path from the MF, no response data (P1 = 09 keeps 3F00 in the path, §3.2).
    static func selectPath(_ path: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x09, p2: 0x0C, data: path)
    }
}

/// Median and 95th percentile of measured durations.
enum LatencyStatistics {
    static func line(label: String, samples: [Duration]) -> String {
        let sorted = samples.sorted()
        let median = sorted[sorted.count / 2]
        let p95 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))]
        return "\(label): median \(Self.format(median)), p95 \(Self.format(p95)), min \(Self.format(sorted[0]))"
    }

    static func format(_ duration: Duration) -> String {
        let micros = Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
        return micros < 1000 ? "\(Int(micros.rounded())) µs" : String(format: "%.2f ms", micros / 1000)
    }
}
