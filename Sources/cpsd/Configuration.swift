import BridgeProtocol
import Foundation
import Logging

/// cpsd's settings: `$XDG_CONFIG_HOME/cpsd/cpsd.conf` (default `~/.config/cpsd/cpsd.conf`), `key = value`
/// lines, `#` comments. Read at start and again on SIGHUP. A missing file means the defaults.
///
/// ```
/// log-level = info            # trace, debug, info, notice, warning, error, critical
/// pin-idle-timeout = 1800     # seconds a client's PIN is kept unused before it is zeroed; 0 = until logout
/// verified-hold-ms = 1000     # ms the card stays verified, held by cpsd alone, for the same client's next
///                             # signature; 0 = reset after every operation; at most 5000
/// bridge = on                 # the HTTPS bridge for the browser extension (on/off)
/// bridge-port = 36443         # its port on 127.0.0.1 and [::1]
/// bridge-user-timeout = 120   # seconds a PIN or consent dialog waits for the user
/// bridge-extension-id = ...   # another Chromium extension id allowed to call (repeatable)
/// pinentry-program = /usr/bin/pinentry-gnome3   # default: pinentry from PATH
/// ```
struct Configuration: Equatable {
    var logLevel: Logger.Level = .info
    /// Nil: kept until logout, card removal or disconnect.
    var pinIdleTimeout: Duration? = .seconds(1800)
    /// `VerifiedHold`: how long the card stays verified for the client whose operation verified it.
    var verifiedHold: Duration = .milliseconds(1000)
    var bridgeEnabled = true
    var bridgePort = BridgeEndpoint.defaultPort
    var bridgeUserTimeout: Duration = .seconds(120)
    var bridgeExtensionIDs: [String] = []
    var pinentryProgram: String?

    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/cpsd/cpsd.conf"
    }

    /// Reads `path`; a missing file gives the defaults, anything malformed is an error naming the line.
    static func load(path: String) throws(ConfigurationError) -> Configuration {
        guard FileManager.default.fileExists(atPath: path) else { return Configuration() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(.unreadable, path: path, line: 0, "cannot read the file (not UTF-8, or no permission)")
        }
        var configuration = Configuration()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Empty pieces kept: a line that starts with `#` is a comment, not a key.
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            guard !line.isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw ConfigurationError(path: path, line: number + 1, "expected key = value") }
            switch parts[0] {
            case "log-level":
                guard let level = Logger.Level(rawValue: parts[1]) else {
                    throw ConfigurationError(path: path, line: number + 1, "unknown log level \(parts[1])")
                }
                configuration.logLevel = level
            case "pin-idle-timeout":
                guard let seconds = Int(parts[1]), seconds >= 0 else {
                    throw ConfigurationError(path: path, line: number + 1, "pin-idle-timeout takes seconds (0 = never)")
                }
                configuration.pinIdleTimeout = seconds == 0 ? nil : .seconds(seconds)
            case "verified-hold-ms":
                guard let milliseconds = Int(parts[1]), (0...5000).contains(milliseconds) else {
                    throw ConfigurationError(path: path, line: number + 1, "verified-hold-ms takes 0 to 5000 milliseconds")
                }
                configuration.verifiedHold = .milliseconds(milliseconds)
            case "bridge":
                guard ["on", "off"].contains(parts[1]) else {
                    throw ConfigurationError(path: path, line: number + 1, "bridge takes on or off")
                }
                configuration.bridgeEnabled = parts[1] == "on"
            case "bridge-port":
                guard let port = Int(parts[1]), (1...65535).contains(port) else {
                    throw ConfigurationError(path: path, line: number + 1, "bridge-port takes a port number")
                }
                configuration.bridgePort = port
            case "bridge-user-timeout":
                guard let seconds = Int(parts[1]), (5...300).contains(seconds) else {
                    throw ConfigurationError(path: path, line: number + 1, "bridge-user-timeout takes 5 to 300 seconds")
                }
                configuration.bridgeUserTimeout = .seconds(seconds)
            case "bridge-extension-id":
                guard parts[1].count == 32, parts[1].allSatisfy({ ("a"..."p").contains($0) }) else {
                    throw ConfigurationError(path: path, line: number + 1, "bridge-extension-id takes a Chromium extension id")
                }
                configuration.bridgeExtensionIDs.append(parts[1])
            case "pinentry-program":
                configuration.pinentryProgram = parts[1]
            default:
                throw ConfigurationError(path: path, line: number + 1, "unknown setting \(parts[0])")
            }
        }
        return configuration
    }
}
