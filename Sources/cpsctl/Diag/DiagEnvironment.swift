import Foundation

/// What the checks read from the machine: files, environment, and small helper programs (run with a
/// timeout-free, stdin-less Process; none of them touches the card).
struct DiagEnvironment {
    var environment: [String: String] = ProcessInfo.processInfo.environment

    /// Runs `tool` when it exists; nil when it is missing or could not start.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String]? = nil)
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

    /// The first existing executable among `/usr/bin/NAME`, `/bin/NAME`, `/usr/sbin/NAME`.
    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].map { $0 + name }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// PRETTY_NAME from /etc/os-release.
    static func operatingSystem() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// Installed versions of Debian packages (`dpkg-query -W`); a package not installed is absent.
    static func packageVersions(_ names: [String]) -> [String: String]? {
        guard let dpkg = tool("dpkg-query") else { return nil }
        var versions: [String: String] = [:]
        for name in names {
            guard let result = run(dpkg, ["-W", "-f", "${Status}\t${Version}", name]), result.status == 0 else { continue }
            let fields = result.output.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 2, fields[0].hasSuffix("installed"), !fields[0].contains("not-installed") {
                versions[name] = String(fields[1])
            }
        }
        return versions
    }
}
