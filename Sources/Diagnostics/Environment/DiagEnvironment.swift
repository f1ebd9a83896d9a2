import Foundation
import PCSC

/// What the checks read from the machine, each behind its seam: the environment variables, files,
/// helper programs, Unix sockets, PC/SC and the bridge's HTTPS port. `local` is this machine; tests
/// build one from fakes.
package struct DiagEnvironment {
    package var variables: [String: String]
    package var files: any DiagFileSystem
    package var programs: any ProgramRunner
    package var sockets: any SocketProbe
    package var readers: any DiagReaderAccess
    package var bridge: any BridgeStatusProbe
    /// This process, left out of pcscd's clients.
    package var processID: Int32

    package init(
        variables: [String: String], files: any DiagFileSystem, programs: any ProgramRunner, sockets: any SocketProbe,
        readers: any DiagReaderAccess, bridge: any BridgeStatusProbe, processID: Int32
    ) {
        self.variables = variables
        self.files = files
        self.programs = programs
        self.sockets = sockets
        self.readers = readers
        self.bridge = bridge
        self.processID = processID
    }

    /// This machine, as cpsctl runs on it.
    package static func local(variables: [String: String] = ProcessInfo.processInfo.environment) -> DiagEnvironment {
        DiagEnvironment(
            variables: variables, files: LocalFileSystem(), programs: LocalProgramRunner(), sockets: LocalSocketProbe(),
            readers: PCSCBackend(), bridge: HTTPSBridgeStatusProbe(), processID: ProcessInfo.processInfo.processIdentifier)
    }

    /// The browsers' NSS databases, read and run through these seams.
    var browserRegistration: BrowserRegistration {
        BrowserRegistration(environment: variables, files: files, programs: programs)
    }

    /// The processes of /proc, read through `files`.
    package var processes: ProcessTable { ProcessTable(files: files) }

    /// pcscd's socket (PCSCLITE_CSOCK_NAME or the Debian default).
    var pcscdSocket: String { variables["PCSCLITE_CSOCK_NAME"] ?? "/run/pcscd/pcscd.comm" }

    /// Runs `tool` when it exists; nil when it is missing or could not start.
    func run(_ tool: String, _ arguments: [String], environment: [String: String]? = nil) -> (status: Int32, output: String)? {
        programs.run(tool, arguments, environment: environment)
    }

    /// The first existing executable among `/usr/bin/NAME`, `/bin/NAME`, `/usr/sbin/NAME`, `/sbin/NAME`.
    func tool(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].map { $0 + name }.first { files.isExecutableFile($0) }
    }

    /// PRETTY_NAME from /etc/os-release.
    func operatingSystem() -> String? {
        guard let text = files.text("/etc/os-release") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// Installed versions of Debian packages (`dpkg-query -W`); a package not installed is absent.
    func packageVersions(_ names: [String]) -> [String: String]? {
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
