/// The JSON bodies of docs/bridge-protocol.md. Decoding is strict about types and lenient about
/// unknown fields (the extension strips them anyway).
package enum BridgeMessages {
    package struct Status: Encodable, Sendable {
        package struct Reader: Encodable, Sendable {
            var name: String
            var cardPresent: Bool
            var cardType: String?

            package init(name: String, cardPresent: Bool, cardType: String?) {
                self.name = name
                self.cardPresent = cardPresent
                self.cardType = cardType
            }
        }
        var `protocol` = BridgeEndpoint.protocolName
        var version: String
        var tokenFormats = ["web-eid:1.0"]
        var paired: Bool
        /// Only for a paired caller; absent otherwise (`BridgeService.status`).
        var readers: [Reader]?

        package init(version: String, paired: Bool, readers: [Reader]?) {
            self.version = version
            self.paired = paired
            self.readers = readers
        }
    }

    package struct PairStartResponse: Encodable, Sendable {
        var pairingId: String
        var expiresIn: Int

        package init(pairingId: String, expiresIn: Int) {
            self.pairingId = pairingId
            self.expiresIn = expiresIn
        }
    }

    package struct PairFinishRequest: Decodable, Sendable {
        package var pairingId: String
        package var code: String
    }

    package struct PairFinishResponse: Encodable, Sendable {
        var token: String

        package init(token: String) { self.token = token }
    }

    package struct AuthenticateRequest: Decodable, Sendable {
        package var requestId: String?
        package var origin: String
        package var challengeNonce: String
        package var lang: String?
    }

    package struct SigningCertificateRequest: Decodable, Sendable {
        package var requestId: String?
        package var origin: String
        package var lang: String?
    }

    package struct SigningCertificateResponse: Encodable, Sendable {
        package struct Algorithm: Encodable, Sendable {
            var cryptoAlgorithm = "RSA"
            var hashFunction = "SHA-256"
            var paddingScheme = "PKCS1.5"
        }
        var certificate: String
        var supportedSignatureAlgorithms = [Algorithm()]

        package init(certificate: String) { self.certificate = certificate }
    }

    package struct CancelRequest: Decodable, Sendable {
        package var requestId: String
    }

    package struct CancelResponse: Encodable, Sendable {
        var cancelled: Bool

        package init(cancelled: Bool) { self.cancelled = cancelled }
    }
}
