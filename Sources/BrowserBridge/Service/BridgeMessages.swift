import Foundation

/// The JSON bodies of docs/bridge-protocol.md. Decoding is strict about types and lenient about
/// unknown fields (the extension strips them anyway).
package enum BridgeMessages {
    package struct Status: Encodable, Sendable {
        package struct Reader: Encodable, Sendable {
            var name: String
            var cardPresent: Bool
            var cardType: String?
        }
        var `protocol` = "cps-bridge/1"
        var version: String
        var tokenFormats = ["web-eid:1.0"]
        var paired: Bool
        /// Only for a paired caller; absent otherwise (`BridgeService.status`).
        var readers: [Reader]?
    }

    package struct PairStartResponse: Encodable, Sendable {
        var pairingId: String
        var expiresIn: Int
    }

    package struct PairFinishRequest: Decodable, Sendable {
        var pairingId: String
        var code: String
    }

    package struct PairFinishResponse: Encodable, Sendable {
        var token: String
    }

    package struct AuthenticateRequest: Decodable, Sendable {
        var requestId: String?
        var origin: String
        var challengeNonce: String
        var lang: String?
    }

    package struct SigningCertificateRequest: Decodable, Sendable {
        var requestId: String?
        var origin: String
        var lang: String?
    }

    package struct SigningCertificateResponse: Encodable, Sendable {
        struct Algorithm: Encodable, Sendable {
            var cryptoAlgorithm = "RSA"
            var hashFunction = "SHA-256"
            var paddingScheme = "PKCS1.5"
        }
        var certificate: String
        var supportedSignatureAlgorithms = [Algorithm()]
    }

    package struct CancelRequest: Decodable, Sendable {
        var requestId: String
    }

    package struct CancelResponse: Encodable, Sendable {
        var cancelled: Bool
    }

    /// Decodes `body` as `T`, or says which argument is wrong.
    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], requestID: String? = nil) throws(BridgeError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch DecodingError.keyNotFound(let key, _) {
            throw BridgeError(.invalidArgument, "missing field \(key.stringValue)", requestID: requestID)
        } catch DecodingError.typeMismatch(_, let context) {
            throw BridgeError(.invalidArgument, "wrong type for \(context.codingPath.map(\.stringValue).joined(separator: "."))", requestID: requestID)
        } catch {
            throw BridgeError(.invalidArgument, "the body is not the expected JSON object", requestID: requestID)
        }
    }
}

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
