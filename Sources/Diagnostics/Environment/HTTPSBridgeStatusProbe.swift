import BridgeClient
import BridgeProtocol
import NIOCore
import NIOHTTP1

/// The real probe: HTTPS to 127.0.0.1, TLS verified against the local CA only.
package struct HTTPSBridgeStatusProbe: BridgeStatusProbe {
    package init() {}

    package func status(port: Int, caPEM: String) throws -> (status: Int, json: [String: Any]) {
        let client = try BridgeHTTPSClient(host: "127.0.0.1", port: port, caPEM: caPEM, timeout: .seconds(1))
        let answer = try client.send(
            .GET, "/v1/status", headers: [("Origin", "chrome-extension://\(BridgeExtensionIDs.chromium)"), ("X-CPS-Bridge", "1")],
            timeout: .seconds(2))
        return (answer.status, answer.json)
    }
}
