package import Foundation
import Synchronization

/// Runs the project's executables and stock tools (pkcs11-tool, openssl, …) from tests.
package enum ToolRunner {
    package struct Result: Sendable {
        package let status: Int32
        package let stdout: String
        package let stderr: String
        package var output: String { stdout + stderr }
    }

    /// The directory holding the built executables (next to the test bundle).
    package static var binDirectory: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("cpsctl").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug")
    }

    package static func executable(_ name: String) -> String { binDirectory.appendingPathComponent(name).path }

    /// Runs `command` through /bin/sh (so tests can redirect file descriptors, e.g. `--pin-fd 3 3<file`),
    /// killing it after `timeout` seconds.
    package static func shell(_ command: String, environment: [String: String] = [:], timeout: Double = 60) throws -> Result {
        try run("/bin/sh", ["-c", command], environment: environment, timeout: timeout)
    }

    package static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
        timeout: Double = 60
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        // Read both pipes concurrently so a chatty stderr cannot block the child.
        let errData = Locked(Data())
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            errDone.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        process.waitUntilExit()
        killer.cancel()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}

/// A value behind a lock, for test plumbing.
final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
