import Foundation
import Testing
import WebEid

@Suite("web-eid:1.0 token encoding")
struct WebEidTokenTests {
    @Test("cpsd's token: RS256, web-eid:1.0, standard base64 with padding, exactly five JSON fields")
    func rs256() throws {
        let token = WebEidToken.rs256(certificateDER: [0x30, 0x82, 0xFF], signature: [0xFB, 0xFF], appVersion: "https://cpsd.invalid/releases/0.5.0")
        #expect(token.algorithm == "RS256" && token.format == "web-eid:1.0")
        #expect(token.unverifiedCertificate == "MIL/")
        #expect(token.signature == "+/8=")
        let object = try #require(try JSONSerialization.jsonObject(with: token.jsonData()) as? [String: String])
        #expect(Set(object.keys) == ["unverifiedCertificate", "algorithm", "signature", "format", "appVersion"])
        #expect(object["appVersion"] == "https://cpsd.invalid/releases/0.5.0")
        #expect(try JSONDecoder().decode(WebEidToken.self, from: token.jsonData()) == token)
        #expect(try token.certificateDER() == [0x30, 0x82, 0xFF])
        #expect(try token.signatureBytes() == [0xFB, 0xFF])
    }

    @Test("base64url, unpadded, or empty binary fields are refused")
    func notStandardBase64() {
        for text in ["-_8", "+/8", "", "not base64!"] {
            let token = WebEidToken(unverifiedCertificate: text, algorithm: "RS256", signature: text, format: "web-eid:1.0", appVersion: "x")
            #expect(throws: WebEidError(.malformedToken, "")) { try token.certificateDER() }
            #expect(throws: WebEidError(.malformedToken, "")) { try token.signatureBytes() }
        }
    }
}
