import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualCard

/// Runs `cpsctl diag` against the real stack in a throw-away HOME (no browser databases, no cpsd at
/// the p11-kit address unless a test passes one) and reads its JSON.
enum DiagRun {
    static let cpsctl = ToolRunner.executable("cpsctl")

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
        let json: [String: Any]
        let checks: [String: [String: Any]]

        func status(_ id: String) -> String? { checks[id]?["status"] as? String }
        func finding(_ id: String) -> String { checks[id]?["finding"] as? String ?? "" }
        func remedy(_ id: String) -> String { checks[id]?["remedy"] as? String ?? "" }
        var summary: [String: Any] { json["summary"] as? [String: Any] ?? [:] }
    }

    /// A fresh HOME with nothing in it but a cpsd.conf giving the bridge a free port (the default 36443
    /// may be taken on a shared machine, which would make bridge.port fail in tests about other things),
    /// and its environment (HOME, XDG dirs, p11-kit address in it).
    static func home() -> (URL, [String: String]) {
        let home = TestCards.temporaryDirectory("cpsd-diag-home")
        let environment = [
            "HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path,
            "XDG_STATE_HOME": home.appendingPathComponent(".local/state").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent(".config").path,
            "XDG_RUNTIME_DIR": home.path, "P11_KIT_SERVER_ADDRESS": "unix:path=\(home.path)/p11-kit/pkcs11",
        ]
        let port = (try? DaemonTest.freePort()).map(Int.init) ?? 36443
        writeConfig(["bridge-port = \(port)"], home: home)
        return (home, environment)
    }

    /// Writes HOME/.config/cpsd/cpsd.conf.
    static func writeConfig(_ lines: [String], home: URL) {
        let directory = home.appendingPathComponent(".config/cpsd")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("cpsd.conf"), atomically: true, encoding: .utf8)
    }

    static func run(
        _ stack: RealStack, _ arguments: [String], environment: [String: String]? = nil
    ) throws -> Outcome {
        try run(environment: stack.environment.merging(environment ?? home().1) { $1 }, arguments)
    }

    /// `cpsctl diag --json ARGUMENTS` with `environment` (which says which pcscd to ask).
    static func run(environment: [String: String], _ arguments: [String]) throws -> Outcome {
        let result = try ToolRunner.run(cpsctl, ["diag", "--json"] + arguments, environment: environment)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let json = try #require(object, "no JSON: \(result.stdout)\n\(result.stderr)")
        let list = json["checks"] as? [[String: Any]] ?? []
        var checks: [String: [String: Any]] = [:]
        for check in list { if let id = check["id"] as? String { checks[id] = check } }
        return Outcome(status: result.status, stdout: result.stdout, stderr: result.stderr, json: json, checks: checks)
    }

    /// Each reader's PIN, PUK and unblock counters, to prove a diag run changed none.
    static func counters(_ stack: RealStack) -> [[Int]] {
        stack.cards.map { [$0.state.pin.triesLeft, $0.state.puk.triesLeft, $0.state.unblocksLeft] }
    }

    /// The repository root (for the schema file).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A card that is not a CPS: another ATR, and every command refused.
final class ForeignCard: CardSimulator, @unchecked Sendable {
    let atr: [UInt8] = [0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B]
    func powerOn() {}
    func powerOff() {}
    func reset() {}
    func process(_ command: [UInt8]) -> [UInt8] { [0x6D, 0x00] }
}

/// One of the Python helpers of Tests/Fixtures/diag, running until `stop()` (or until the test process
/// dies: each helper exits when its standard input closes). Waits for the helper's `ready` line.
final class FixtureProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(_ script: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 10) throws {
        let path = DiagRun.repositoryRoot.appendingPathComponent("Tests/Fixtures/diag/\(script)").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        var text = ""
        let deadline = Date(timeIntervalSinceNow: timeout)
        let fd = output.fileHandleForReading.fileDescriptor
        while !text.contains("ready\n") {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            var chunk = [UInt8](repeating: 0, count: 1024)
            guard poll(&poller, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000)) > 0 else {
                stop()
                throw DaemonProcessError("\(script) did not get ready: \(text)")
            }
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else {
                stop()
                throw DaemonProcessError("\(script) exited: \(text)")
            }
            text += String(decoding: chunk[0..<count], as: UTF8.self)
        }
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }

    /// Closes its standard input (the helper then exits) and waits; SIGKILL after 5 s.
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
