import Foundation
import Glibc

/// Any long-running program of the project (a server, a daemon) run as a child of the test process,
/// its standard output and error in a log file, and never outliving the test process.
///
/// As in ``DaemonProcess``: the program is started by an `sh` wrapper whose standard input is one end of
/// a close-on-exec socket pair that only this object holds; a background `cat` reads it and, at EOF
/// (``stop()`` closed our end, or the test process died, even by SIGKILL), sends SIGTERM to the program.
package final class WatchedProcess: @unchecked Sendable {
    package let logPath: String
    private let process = Process()
    private let exitCondition = NSCondition()
    private var exited = false  // Guarded by `exitCondition`.
    private var watchdogEnd: Int32 = -1

    private static let wrapperScript = #"""
        log=$1; shift
        exec 3<&0 </dev/null
        { cat <&3 >/dev/null 2>&1; kill -TERM "$$" 2>/dev/null; } >/dev/null 2>&1 &
        exec "$@" >>"$log" 2>&1 3<&-
        """#

    /// Starts `executable arguments…` with `environment` added, its output appended to `logPath`.
    package init(
        _ executable: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]
    ) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else { throw DaemonProcessError("socketpair: errno \(errno)") }
        watchdogEnd = ends[1]
        let readEnd = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", Self.wrapperScript, "watched", logPath, executable] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = readEnd
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let condition = exitCondition
        process.terminationHandler = { [weak self] _ in
            condition.lock()
            self?.exited = true
            condition.broadcast()
            condition.unlock()
        }
        do {
            try process.run()
        } catch {
            close(watchdogEnd)
            watchdogEnd = -1
            throw DaemonProcessError("cannot spawn \(executable): \(error)")
        }
        try? readEnd.close()
    }

    deinit { stop() }

    package var pid: Int32 { process.processIdentifier }

    package var hasExited: Bool {
        exitCondition.lock()
        defer { exitCondition.unlock() }
        return exited
    }

    /// The program's exit status once it has exited by itself (nil while it runs or after a signal).
    package var exitStatus: Int32? {
        guard hasExited, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    /// Everything the program printed so far.
    package var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log contains `text`; throws with the log when the program exits or `timeout` passes.
    package func waitForOutput(_ text: String, timeout: Double = 30) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !log.contains(text) {
            if hasExited || Date() >= deadline {
                throw DaemonProcessError("no \"\(text)\" from the program (exited: \(hasExited)):\n\(log)")
            }
            usleep(20_000)
        }
    }

    /// SIGTERM through the watchdog, SIGKILL after 10 s. Returns once the program has exited: true when
    /// it exited by itself with status 0.
    @discardableResult
    package func stop() -> Bool {
        if watchdogEnd >= 0 {
            close(watchdogEnd)
            watchdogEnd = -1
        }
        if !waitForExit(timeout: 10) {
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 5)
            return false
        }
        return exitStatus == 0
    }

    private func waitForExit(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        exitCondition.lock()
        defer { exitCondition.unlock() }
        while !exited {
            if !exitCondition.wait(until: deadline) { return exited }
        }
        return true
    }
}
