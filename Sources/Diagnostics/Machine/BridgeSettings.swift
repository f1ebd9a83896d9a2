import BridgeProtocol
import Foundation

/// Where cpsd's bridge should be, as cpsd itself would decide: the running cpsd's own arguments
/// (`--no-bridge`, `--bridge-port`, `--config`), else cpsd.conf (`bridge`, `bridge-port`,
/// `bridge-extension-id`), else the default port. `cpsctl diag --bridge-port` overrides the port.
package struct BridgeSettings: Equatable {

    var enabled = true
    var port = BridgeEndpoint.defaultPort
    /// Where the port came from, for findings.
    var portSource = "the default"
    /// Why the bridge is off, when it is.
    var disabledBy: String?
    var configPath: String
    var chromiumIDs: [String] = [BridgeExtensionIDs.chromium]

    static func resolve(in environment: DiagEnvironment, daemon: LocalProcess?, portOverride: Int?) -> BridgeSettings {
        let arguments = daemon.map { environment.processes.arguments(of: $0.pid).dropFirst().map { $0 } } ?? []
        let configPath = value(of: "--config", in: arguments) ?? defaultConfigPath(environment.variables)
        var settings = BridgeSettings(configPath: configPath)
        settings.read(configFile: configPath, files: environment.files)
        if let daemon {
            if arguments.contains("--no-bridge") {
                settings.enabled = false
                settings.disabledBy = "cpsd (pid \(daemon.pid)) runs with --no-bridge"
            }
            if let port = value(of: "--bridge-port", in: arguments).flatMap(Int.init) {
                settings.port = port
                settings.portSource = "--bridge-port of cpsd pid \(daemon.pid)"
            }
        }
        if let portOverride {
            settings.port = portOverride
            settings.portSource = "--bridge-port"
        }
        return settings
    }

    /// `bridge`, `bridge-port` and `bridge-extension-id` lines; cpsd checks the file's syntax itself.
    private mutating func read(configFile path: String, files: any DiagFileSystem) {
        guard let text = files.text(path) else { return }
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "bridge" where parts[1] == "off":
                enabled = false
                disabledBy = "`bridge = off` in \(path)"
            case "bridge-port":
                if let value = Int(parts[1]), (1...65535).contains(value) {
                    port = value
                    portSource = "bridge-port in \(path)"
                }
            case "bridge-extension-id":
                chromiumIDs.append(parts[1])
            default:
                continue
            }
        }
    }

    /// `--name VALUE` or `--name=VALUE`.
    private static func value(of name: String, in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == name, index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
        }
        return nil
    }

    static func defaultConfigPath(_ environment: [String: String]) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/cpsd/cpsd.conf"
    }
}
