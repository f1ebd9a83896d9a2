import Crypto
import Foundation
import Testing
import WebEid

@Suite("What a Web eID authentication signs")
struct WebEidSignedDataTests {
    static let nonce = "12345678901234567890123456789012345678901234"

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Vectors computed outside Swift: `printf %s ORIGIN | sha256sum`, `printf %s NONCE | sha256sum`, and
    /// `sha256sum` of the two binary digests concatenated.
    @Test("SHA-256(origin) ‖ SHA-256(nonce as text), then the DigestInfo of its SHA-256")
    func vectors() throws {
        let origin = try WebOrigin(validating: "https://ria.ee")
        let data = WebEidSignedData.data(origin: origin, nonce: Self.nonce)
        #expect(
            Self.hex(data)
                == "3a0de594ddc5e6d2db6ac36788ccd4102b7eb272e4d610ea8956317ccf616f92"
                + "96d58110d3c31077970ae1197cf51a3b5152dbb2417c79de9a59bf2f62b6d43c")
        let digestInfo = WebEidSignedData.sha256DigestInfo(origin: origin, nonce: Self.nonce)
        #expect(
            Self.hex(digestInfo)
                == "3031300d060960864801650304020105000420"
                + "97dda205786cd785a188269a02e40b4d2e61f7ab02f2034dd99eda3cca0b2d5b")
    }

    @Test("the origin is hashed in its serialized form: two spellings of one origin sign the same data")
    func serializedOrigin() throws {
        let a = WebEidSignedData.data(origin: try WebOrigin(validating: "HTTPS://RIA.EE:443"), nonce: Self.nonce)
        let b = WebEidSignedData.data(origin: try WebOrigin(validating: "https://ria.ee"), nonce: Self.nonce)
        let other = WebEidSignedData.data(origin: try WebOrigin(validating: "https://ria.ee:8443"), nonce: Self.nonce)
        #expect(a == b)
        #expect(a != other)
    }

    @Test("the nonce is hashed as its base64 text, not decoded")
    func nonceAsText() throws {
        let origin = try WebOrigin(validating: "https://example.com")
        let nonce = ChallengeNonce.generate()
        let data = WebEidSignedData.data(origin: origin, nonce: nonce)
        #expect(Array(data[32...]) == Array(SHA256.hash(data: Array(nonce.utf8))))
        #expect(Array(data[32...]) != Array(SHA256.hash(data: try #require(Data(base64Encoded: nonce)))))
    }
}
