import ErrorShape
import Foundation
import SmartCardCore

/// A refusal or failure of the bridge, as the extension sees it: an HTTP status and a stable code
/// (docs/bridge-protocol.md, "Errors"). Messages are for people; scripts test `code`.
package struct BridgeError: CodedError {
    package enum Code: String, ErrorCode, CaseIterable {
        case invalidArgument = "ERR_INVALID_ARGUMENT"
        case insecureOrigin = "ERR_INSECURE_ORIGIN"
        case unauthorizedCaller = "ERR_UNAUTHORIZED_CALLER"
        case callerOrigin = "ERR_CALLER_ORIGIN"
        case userCancelled = "ERR_USER_CANCELLED"
        case pinInvalid = "ERR_PIN_INVALID"
        case pinBlocked = "ERR_PIN_BLOCKED"
        case pairingRefused = "ERR_PAIRING_REFUSED"
        case notFound = "ERR_NOT_FOUND"
        case cardNotPresent = "ERR_CARD_NOT_PRESENT"
        case cardNotSupported = "ERR_CARD_NOT_SUPPORTED"
        case userTimeout = "ERR_USER_TIMEOUT"
        case actionPending = "ERR_ACTION_PENDING"
        case payloadTooLarge = "ERR_PAYLOAD_TOO_LARGE"
        case unsupportedMediaType = "ERR_UNSUPPORTED_MEDIA_TYPE"
        case hostNotAllowed = "ERR_HOST_NOT_ALLOWED"
        case rateLimited = "ERR_RATE_LIMITED"
        case internalError = "ERR_INTERNAL"
        case cardIO = "ERR_CARD_IO"

        package var httpStatus: Int {
            switch self {
            case .invalidArgument, .insecureOrigin: 400
            case .unauthorizedCaller: 401
            // A user's timeout is 403 like the user's other refusals, never 408: browsers take 408 for the
            // server timing out an idle connection and send the request again (Chromium once, Firefox
            // repeatedly), which would open a second PIN dialog.
            case .callerOrigin, .userCancelled, .userTimeout, .pinInvalid, .pinBlocked, .pairingRefused: 403
            case .notFound, .cardNotPresent, .cardNotSupported: 404
            case .actionPending: 409
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .hostNotAllowed: 421
            case .rateLimited: 429
            case .internalError, .cardIO: 500
            }
        }
    }

    package var code: Code
    package var reason: String
    package var retriesLeft: Int?
    package var requestID: String?

    package init(_ code: Code, _ reason: String, retriesLeft: Int? = nil, requestID: String? = nil) {
        self.code = code
        self.reason = reason
        self.retriesLeft = retriesLeft
        self.requestID = requestID
    }


    /// `{"error": {"code", "message", "retriesLeft"?, "requestId"?}}`
    package var jsonBody: [UInt8] {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
                var retriesLeft: Int?
                var requestId: String?
            }
            var error: Detail
        }
        let body = Body(error: .init(code: code.rawValue, message: reason, retriesLeft: retriesLeft, requestId: requestID))
        return (try? Array(JSONEncoder.bridge.encode(body))) ?? Array(#"{"error":{"code":"ERR_INTERNAL"}}"#.utf8)
    }
}

extension JSONEncoder {
    /// Compact, stable key order, no escaped slashes: what every bridge answer uses.
    static var bridge: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
