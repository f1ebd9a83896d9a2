import CardTestSupport
import Foundation
import Glibc
import SmartCardCore
import Testing
import VirtualReaderStack

enum StackTestSupport {
    static let cps3ATRText = "3b:ac:00:40:2a:00:12:25:00:64:80:00:03:10:00:90:00"

    /// A fresh short directory (the pcscd socket path must fit in sockaddr_un).
    static func makeDirectory() -> URL {
        let url = URL(fileURLWithPath: "/tmp/cps-st-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a tool to completion (killed after `timeout`), returning its exit status and standard output.
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 20
    ) throws -> (status: Int32, output: String) {
        let result = try ToolRunner.run(tool, arguments, environment: environment, timeout: timeout)
        return (result.status, result.stdout)
    }

    /// Reader name → card present, from `opensc-tool -l`.
    static func openscReaders(_ stack: VirtualStack) throws -> [String: Bool] {
        let result = try run("/usr/bin/opensc-tool", ["-l"], environment: stack.environment)
        var readers: [String: Bool] = [:]
        for line in result.output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, Int(fields[0]) != nil, fields[1] == "Yes" || fields[1] == "No" else { continue }
            guard let nameStart = line.range(of: "Virtual CPS Reader") else { continue }
            readers[String(line[nameStart.lowerBound...])] = fields[1] == "Yes"
        }
        return readers
    }

    /// Polls `opensc-tool -l` until `reader` reports `present` (pcscd polls vpcd every 400 ms).
    static func waitForPresence(_ stack: VirtualStack, reader: String, present: Bool, timeout: Double = 5) throws
        -> Bool
    {
        let deadline = Date(timeIntervalSinceNow: timeout)
        repeat {
            if try openscReaders(stack)[reader] == present { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    /// Live (non-zombie) processes whose command line mentions `text`, e.g. a stack's directory.
    static func liveProcesses(mentioning text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid -> String? in
            guard Int(pid) != nil, pid != String(getpid()),
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty
            else { return nil }
            let command = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return command.contains(text) ? "\(pid): \(command)" : nil
        }
    }

    /// pcscd processes serving the stack in `directory` (not its wrapper shells, whose script mentions pcscd).
    static func pcscdProcesses(_ directory: URL) -> [String] {
        liveProcesses(mentioning: directory.path).filter { $0.contains(": pcscd --foreground") }
    }

    /// Waits until no pcscd of `directory` is left.
    static func waitForNoPCSCD(_ directory: URL, timeout: Double = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !pcscdProcesses(directory).isEmpty {
            guard Date() < deadline else { return false }
            usleep(50_000)
        }
        return true
    }

    /// Waits until no live process mentions `directory` (pcscd, its wrapper shells).
    static func waitForNothingRunning(_ directory: URL, timeout: Double = 5) -> [String] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var left = liveProcesses(mentioning: directory.path)
        while !left.isEmpty && Date() < deadline {
            usleep(50_000)
            left = liveProcesses(mentioning: directory.path)
        }
        return left
    }

    /// The built `cps-vcard` next to the test bundle, if any.
    static var cpsVCardPath: String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("cps-vcard").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/cps-vcard"
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }
}
