/// `GET /v1/status` on the bridge's port, as the extension sends it: the seam tests replace with a
/// canned answer or failure.
package protocol BridgeStatusProbe {
    /// The HTTP status and JSON body; throws when the connection or TLS (checked against `caPEM`) fails.
    func status(port: Int, caPEM: String) throws -> (status: Int, json: [String: Any])
}
