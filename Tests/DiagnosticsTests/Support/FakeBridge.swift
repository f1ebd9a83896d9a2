import Diagnostics

/// The bridge's `GET /v1/status` answer, or the failure of the connection.
struct FakeBridge: BridgeStatusProbe {
    var answer: (status: Int, protocolName: String?, version: String)?
    var failure: (any Error)?

    struct Refused: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    func status(port: Int, caPEM: String) throws -> (status: Int, json: [String: Any]) {
        if let failure { throw failure }
        guard let answer else { throw Refused() }
        var json: [String: Any] = ["version": answer.version]
        if let name = answer.protocolName { json["protocol"] = name }
        return (answer.status, json)
    }
}
