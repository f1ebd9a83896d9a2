package import Foundation

/// A Web eID authentication token, format `web-eid:1.0` (browser-and-psc.md §2.3): exactly these five
/// fields, binary values in standard base64 with padding. It deliberately carries neither the origin nor
/// the nonce: the relying party must verify against its own stored values.
package struct WebEidToken: Codable, Sendable, Equatable {
    /// Base64 DER of the authentication certificate. "Unverified": the relying party checks it.
    package var unverifiedCertificate: String
    /// JWA name of the signature algorithm: "RS256" for a CPS3 (RSA PKCS#1 v1.5, SHA-256).
    package var algorithm: String
    /// Base64 of the signature over ``WebEidSignedData/data(origin:nonce:)``.
    package var signature: String
    package var format: String
    /// A URL naming the issuing application's release.
    package var appVersion: String

    package static let currentFormat = "web-eid:1.0"

    package init(unverifiedCertificate: String, algorithm: String, signature: String, format: String, appVersion: String) {
        self.unverifiedCertificate = unverifiedCertificate
        self.algorithm = algorithm
        self.signature = signature
        self.format = format
        self.appVersion = appVersion
    }

    /// The token cpsd issues for a CPS3: RS256, format `web-eid:1.0`, the two binary fields base64-encoded.
    package static func rs256(certificateDER: [UInt8], signature: [UInt8], appVersion: String) -> WebEidToken {
        WebEidToken(
            unverifiedCertificate: Data(certificateDER).base64EncodedString(), algorithm: "RS256",
            signature: Data(signature).base64EncodedString(), format: currentFormat, appVersion: appVersion)
    }

    /// The certificate's DER bytes; standard base64 only (no base64url, no line breaks).
    package func certificateDER() throws(WebEidError) -> [UInt8] {
        try Self.decode(unverifiedCertificate, field: "unverifiedCertificate")
    }

    /// The signature's bytes; standard base64 only.
    package func signatureBytes() throws(WebEidError) -> [UInt8] {
        try Self.decode(signature, field: "signature")
    }

    private static func decode(_ text: String, field: String) throws(WebEidError) -> [UInt8] {
        guard let data = Data(base64Encoded: text), !data.isEmpty else {
            throw WebEidError(.malformedToken, "\(field) is not standard base64")
        }
        return Array(data)
    }

    /// The token's JSON in a fixed key order (what the bridge answers and a page posts back).
    package func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Five strings always encode; a failure here would be a Foundation bug.
        return (try? encoder.encode(self)) ?? Data()
    }
}
