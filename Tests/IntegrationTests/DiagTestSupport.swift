import CardTestSupport
import Foundation
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

    /// A fresh HOME with nothing in it, and its environment (HOME, XDG dirs, p11-kit address in it).
    static func home() -> (URL, [String: String]) {
        let home = TestCards.temporaryDirectory("cpsd-diag-home")
        let environment = [
            "HOME": home.path, "XDG_DATA_HOME": home.appendingPathComponent(".local/share").path,
            "XDG_RUNTIME_DIR": home.path, "P11_KIT_SERVER_ADDRESS": "unix:path=\(home.path)/p11-kit/pkcs11",
        ]
        return (home, environment)
    }

    static func run(
        _ stack: RealStack, _ arguments: [String], environment: [String: String]? = nil
    ) throws -> Outcome {
        let env = stack.environment.merging(environment ?? home().1) { $1 }
        let result = try ToolRunner.run(cpsctl, ["diag", "--json"] + arguments, environment: env)
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
