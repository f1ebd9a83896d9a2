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
            try configuration.set(parts[0], parts[1]) { message in
                ConfigurationError(path: path, line: number + 1, message)
            }
        }
        return configuration
    }

    /// Applies one `key = value` line; `fail` makes the error that names it.
    private mutating func set(
        _ key: String, _ value: String, _ fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) {
        /// The value as a whole number within `range`.
        func integer(in range: ClosedRange<Int>, _ message: String) throws(ConfigurationError) -> Int {
            guard let number = Int(value), range.contains(number) else { throw fail(message) }
            return number
        }
        switch key {
        case "log-level":
            guard let level = Logger.Level(rawValue: value) else { throw fail("unknown log level \(value)") }
            logLevel = level
        case "pin-idle-timeout":
            let seconds = try integer(in: 0...Int.max, "pin-idle-timeout takes seconds (0 = never)")
            pinIdleTimeout = seconds == 0 ? nil : .seconds(seconds)
        case "verified-hold-ms":
            verifiedHold = .milliseconds(try integer(in: 0...5000, "verified-hold-ms takes 0 to 5000 milliseconds"))
        case "bridge":
            guard ["on", "off"].contains(value) else { throw fail("bridge takes on or off") }
            bridgeEnabled = value == "on"
        case "bridge-port":
            bridgePort = try integer(in: 1...65535, "bridge-port takes a port number")
        case "bridge-user-timeout":
            bridgeUserTimeout = .seconds(try integer(in: 5...300, "bridge-user-timeout takes 5 to 300 seconds"))
        case "bridge-extension-id":
            guard value.count == 32, value.allSatisfy({ ("a"..."p").contains($0) }) else {
                throw fail("bridge-extension-id takes a Chromium extension id")
            }
            bridgeExtensionIDs.append(value)
        case "pinentry-program":
            pinentryProgram = value
        default:
            throw fail("unknown setting \(key)")
        }
    }
}
