/// Where and how the browser extension finds cpsd's bridge (docs/bridge-protocol.md).
package enum BridgeEndpoint {
    /// The loopback port the bridge listens on unless cpsd.conf or `--bridge-port` says otherwise.
    package static let defaultPort = 36443
    /// What `GET /v1/status` names in its `protocol` field.
    package static let protocolName = "cps-bridge/1"
}
