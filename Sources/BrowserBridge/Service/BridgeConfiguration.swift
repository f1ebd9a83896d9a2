import BridgeProtocol
import SmartCardCore

/// The bridge's settings (cpsd.conf `bridge-*`, `--bridge-port`).
package struct BridgeConfiguration: Sendable {
    package var port = BridgeEndpoint.defaultPort
    package var extraChromiumIDs: Set<String> = []
    /// How long a dialog waits for the user (Web eID's default: 120 s).
    package var userTimeout: Duration = .seconds(120)
    package var version = Release.version
    package var appVersionURL: String { "https://cpsd.invalid/releases/\(version)" }

    package init() {}
}
