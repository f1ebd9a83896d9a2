import ArgumentParser
import Foundation
import IASECC
import P11KitClient
import PCSC
import PKCS11Constants
import SmartCardCore

/// `cpsctl bench pkcs11`: what going through cpsd costs. Needs a running cpsd and a card; asks for the
/// PIN once (or reads it from --pin-fd) and spends no try when it is right.
struct PKCS11Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pkcs11",
        abstract: "Sign latency through cpsd versus the direct driver, concurrency, and the daemon's idle cost."
    )

    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var selection: ReaderSelection
    @OptionGroup var secrets: SecretOptions

    @Option(name: .long, help: "Signatures timed for the socket/direct comparison.")
    var signatures = 200

    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent client processes to measure.")
    var clients: [Int] = [1, 4, 16]

    @Option(name: .long, help: "Signatures per client process in the concurrency runs.")
    var perClient = 40

    @Option(name: .long, help: "Seconds of idleness over which the daemon's CPU use is measured.")
    var idleSeconds = 5

    @Option(
        name: .long,
        help: "PID of a `cps-vcard run` process holding the card: pulled (SIGUSR1) and reinserted (SIGUSR2) to time insertion to token ready.")
    var reinsertPid: Int32?

    static let digestInfo = SignatureHash.sha256.digestInfoPrefix + [UInt8](repeating: 0x5A, count: 32)
    static let authRequest = SignatureRequest.rsaPKCS(role: .authentication, input: digestInfo)
    static let rsaPKCS = CKM.rsaPKCS
    /// Alternating blocks of socket and in-process signatures.
    static let rounds = 4

    func run() async throws {
        guard !daemon.direct, let route = daemon.route() else {
            throw CLIError("cpsd is not running: start it (systemctl --user start cpsd.socket, or cpsd &) first.")
        }
        let pin = try secrets.pin("PIN")
        try secrets.check(pin, length: CPS3Driver.pinLength, what: "PIN")
        let card = try DaemonCard(route: route, reader: selection.reader)
        // The socket and the in-process runs alternate in blocks, so that a slow spell of the machine
        // weighs on both sides alike. Each side's first signature of a block verifies the PIN, the next ones
        // run in its verified hold (cpsd's `verified-hold-ms`, which the in-process side waits out first).
        var (socketTimes, isolatedTimes): ([Duration], [Duration]) = ([], [])
        let block = max(1, signatures / Self.rounds)
        for _ in 0..<Self.rounds {
            socketTimes += try card.timedSignatures(
                pin: pin, key: .authentication, mechanism: Self.rsaPKCS, input: Self.digestInfo, count: block)
            isolatedTimes += try directIsolatedSignatures(reader: card.readerName, pin: pin, count: block)
        }
        let directTimes = try directSignatures(reader: card.readerName, pin: pin)
        print("reader: \(card.readerName), cpsd at \(route.socketPath)")
        print(LatencyStatistics.line(label: "sign via cpsd (C_Sign, CKM_RSA_PKCS, CPS_PRIV_AUT)", samples: socketTimes))
        print(LatencyStatistics.line(label: "sign direct (driver over PC/SC, one transaction each)", samples: directTimes))
        print(LatencyStatistics.line(label: "sign in process, cpsd's card work (probe, VERIFY, sign; then held)", samples: isolatedTimes))
        let overhead = (Self.median(socketTimes) / Self.median(directTimes) - 1) * 100
        print(String(format: "socket overhead on the median: %+.1f %% (cpsd's isolation included)", overhead))
        // The same card work with and without cpsd: what the socket, the RPC and the daemon add.
        let socketCost = Self.median(socketTimes) - Self.median(isolatedTimes)
        print(String(format: "socket cost over the same card work in process (median): %+.3f ms", socketCost * 1000))
        let roundTrips = try card.timedRoundTrips(count: signatures)
        print(LatencyStatistics.line(label: "one call through the socket, answered from memory (C_GetSlotInfo)", samples: roundTrips))
        print(String(format: "socket cost of a signature's two calls (C_SignInit, C_Sign), from that: %.3f ms",
            2 * Self.median(roundTrips) * 1000))
        for count in clients {
            try concurrency(count, route: route, reader: card.readerName, pin: pin)
        }
        if let pid = UnixSocketProbe.serverPID(route.socketPath) { try idleCost(pid: pid) }
        if let reinsertPid { try insertionToReady(card: card, cardProcess: reinsertPid) }
    }

    /// Pulls the virtual card and puts it back, timing from the insertion to cpsd listing the token again
    /// (vpcd polls its card every 400 ms: with a virtual reader that poll dominates the figure).
    private func insertionToReady(card: DaemonCard, cardProcess: Int32) throws {
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for _ in 0..<5 {
            kill(cardProcess, SIGUSR1)
            try Self.waitUntil(timeout: .seconds(5)) { !card.tokenPresent() }
            let inserted = clock.now
            kill(cardProcess, SIGUSR2)
            try Self.waitUntil(timeout: .seconds(5)) { card.tokenPresent() }
            samples.append(clock.now - inserted)
        }
        print(LatencyStatistics.line(label: "insertion to token ready (5 reinsertions)", samples: samples))
    }

    private static func waitUntil(timeout: Duration, _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CLIError("the card did not come and go as commanded") }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// The same signature through the driver, as the daemon does it: PIN verified once beforehand,
    /// then one PC/SC transaction per signature.
    private func directSignatures(reader: String, pin: borrowing SecretBytes) throws -> [Duration] {
        let connection = try CLIError.wrap { try PCSCBackend().connect(to: reader) }
        defer { connection.disconnect(.leave) }
        let clock = ContinuousClock()
        return try CLIError.wrap {
            let driver = try connection.withTransaction { session in
                let driver = try CardDrivers.driver(for: session)
                try driver.verifyPIN(&session, pin)
                return driver
            }
            return try (0..<signatures).map { _ in
                try clock.measure {
                    _ = try connection.withTransaction { try driver.sign(&$0, Self.authRequest) }
                }
            }
        }
    }

    /// The same signatures with cpsd's card work, through the same driver code cpsd runs: the block's first
    /// as `CPS3Driver.performVerifying` keeping its transaction open (the opening VERIFY without data,
    /// VERIFY, sign: cpsd's verified hold), the next ones in that open transaction, as cpsd signs for the
    /// same client within `verified-hold-ms`; the hold ends with a warm reset after the block, untimed, as
    /// cpsd's timer ends it off the client's path. What the socket is compared with.
    private func directIsolatedSignatures(reader: String, pin: borrowing SecretBytes, count: Int) throws -> [Duration] {
        let connection = try CLIError.wrap { try PCSCBackend().connect(to: reader) }
        defer { connection.disconnect(.leave) }
        let clock = ContinuousClock()
        // Untimed: this transaction also waits for the end of cpsd's own hold of the card.
        let driver = try CLIError.wrap { try CPS3Driver.perform(on: connection) { session in try CardDrivers.driver(for: session) } }
        var held: HeldTransaction?
        defer { if held != nil { try? connection.endHeldTransaction() } }
        return try CLIError.wrap {
            try (0..<count).map { _ in
                try clock.measure {
                    if var transaction = held {
                        _ = try connection.withinHeldTransaction(&transaction) { (session) throws(IASECCError) in
                            try driver.sign(&session, Self.authRequest)
                        }
                        held = transaction
                    } else {
                        held = try CPS3Driver.performVerifying(on: connection, driver: driver, keepOpen: true) {
                            (session, _) throws(IASECCError) in
                            try driver.verifyPIN(&session, pin)
                            return try driver.sign(&session, Self.authRequest)
                        }.held
                    }
                }
            }
        }
    }

    /// `count` client processes signing at once; throughput and latency over all their signatures.
    private func concurrency(_ count: Int, route: DaemonRoute, reader: String, pin: borrowing SecretBytes) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let clock = ContinuousClock()
        let start = clock.now
        var workers: [(Process, Pipe)] = []
        for _ in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "bench", "pkcs11-worker", "--daemon-socket", route.socketPath, "--reader", reader,
                "--count", "\(perClient)",
            ]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            pin.withBytes { input.fileHandleForWriting.write(Data($0) + Data([0x0A])) }
            try input.fileHandleForWriting.close()
            workers.append((process, output))
        }
        var samples: [Duration] = []
        for (process, output) in workers {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CLIError("a benchmark client failed: \(text)") }
            samples += text.split(separator: "\n").compactMap { Int($0) }.map { Duration.nanoseconds($0) }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let throughput = Double(samples.count) / seconds
        print(String(format: "%2d clients: %.0f signatures/s, ", count, throughput)
            + LatencyStatistics.line(label: "latency", samples: samples))
    }

    private func idleCost(pid: Int32) throws {
        let before = Self.cpuTicks(pid)
        Thread.sleep(forTimeInterval: Double(idleSeconds))
        let after = Self.cpuTicks(pid)
        let rss = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.dropFirst(6).trimmingCharacters(in: .whitespaces)
        print("cpsd (pid \(pid)) idle: \(after.map { a in before.map { "\(a - $0)" } ?? "?" } ?? "?") CPU ticks in \(idleSeconds) s, resident memory \(rss ?? "?")")
    }

    static func cpuTicks(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    static func median(_ samples: [Duration]) -> Double {
        let sorted = samples.sorted()
        let middle = sorted[sorted.count / 2].components
        return Double(middle.seconds) + Double(middle.attoseconds) / 1e18
    }
}

/// One client of `bench pkcs11`'s concurrency runs (a separate process: p11-kit-client.so keeps one
/// connection per process). Reads the PIN on stdin, prints each C_Sign's nanoseconds.
struct PKCS11BenchWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pkcs11-worker", shouldDisplay: false)

    @Option(name: .long) var daemonSocket: String
    @Option(name: .long) var reader: String
    @Option(name: .long) var count: Int

    func run() async throws {
        let pin = try SecretInput.fromDescriptor(0)
        let card = try DaemonCard(route: DaemonRoute(socketPath: daemonSocket), reader: reader)
        let times = try card.timedSignatures(
            pin: pin, key: .authentication, mechanism: PKCS11Bench.rsaPKCS,
            input: PKCS11Bench.digestInfo, count: count)
        print(times.map { "\($0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000)" }
            .joined(separator: "\n"))
    }
}
