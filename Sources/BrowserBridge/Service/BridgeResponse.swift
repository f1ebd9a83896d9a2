import Foundation

/// What a route answers: a status and a JSON body.
package struct BridgeResponse: Sendable {
    package var status: Int
    package var body: [UInt8]

    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    package init(_ error: BridgeError) {
        self.init(status: error.code.httpStatus, body: error.jsonBody)
    }

    package static func ok(_ value: some Encodable) -> BridgeResponse {
        do {
            return BridgeResponse(status: 200, body: Array(try JSONEncoder.bridge.encode(value)))
        } catch {
            return BridgeResponse(BridgeError(.internalError, "cannot encode the answer"))
        }
    }
}
