import Foundation
import Glibc
import PinEntry
import SmartCardCore
import Testing

/// Tests/Fixtures/scripted-pinentry with its own script and log in a private directory.
struct ScriptedPinentry {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let executable = fixtures.appendingPathComponent("scripted-pinentry").path

    let directory: URL
    let scriptPath: String
    let logPath: String

    /// `answers`: the script, one dialog's answer per element (`pin 1234`, `cancel`, `hang`, …).
    init(_ answers: [String]) throws {
        directory = URL(fileURLWithPath: "/tmp/cpsd-pinentry-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        scriptPath = directory.appendingPathComponent("script").path
        logPath = directory.appendingPathComponent("log.jsonl").path
        try (answers.joined(separator: "\n") + "\n").write(toFile: scriptPath, atomically: true, encoding: .utf8)
    }

    /// The environment the program sees: our script and log, a PATH, and `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        let base = [
            "CPSD_TEST_PINENTRY_SCRIPT": scriptPath, "CPSD_TEST_PINENTRY_LOG": logPath, "PATH": "/usr/bin:/bin",
        ]
        return base.merging(extra) { $1 }
    }

    func program(
        _ extra: [String: String] = [:], responseTimeout: Duration = .seconds(15), watchdogGrace: Duration = .seconds(10)
    ) -> PinEntryProgram {
        PinEntryProgram(
            path: Self.executable, environment: environment(extra), responseTimeout: responseTimeout,
            watchdogGrace: watchdogGrace)
    }

    /// One decoded JSON object per dialog the program showed.
    var log: [[String: Any]] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    var rawLog: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `count` dialogs are logged (a hanging dialog logs itself when it opens).
    func waitForDialogs(_ count: Int, timeout: Duration = .seconds(20)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log.count >= count { return true }
            usleep(20_000)
        }
        return false
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

enum ProcessCheck {
    /// True when `pid` is neither running nor a zombie: reaped by its parent.
    static func isReaped(_ pid: Int) -> Bool {
        kill(pid_t(pid), 0) == -1 && errno == ESRCH
    }
}

extension SecretBytes {
    var bytes: [UInt8] { withBytes { Array($0) } }
}

/// Runs a blocking call on its own thread, so the test can act (cancel) while it waits.
final class BackgroundCall<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, PinEntryError>?  // Written once before `done` is signalled.

    init(_ body: @escaping @Sendable () throws(PinEntryError) -> Value) {
        let thread = Thread { [self] in
            do throws(PinEntryError) {
                result = .success(try body())
            } catch {
                result = .failure(error)
            }
            done.signal()
        }
        thread.start()
    }

    /// The call's result, or nil if it has not returned within `timeout`.
    func wait(timeout: Double) -> Result<Value, PinEntryError>? {
        done.wait(timeout: .now() + timeout) == .success ? result : nil
    }
}
