import Foundation

/// Runs programs of this machine: stdin closed, stdout and stderr together, no timeout (none of them
/// touches the card).
package struct LocalProgramRunner: ProgramRunner {
    package init() {}

    package func run(_ tool: String, _ arguments: [String], environment: [String: String]?)
        -> (status: Int32, output: String)?
    {
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
