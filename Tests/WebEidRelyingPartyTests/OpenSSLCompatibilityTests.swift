import CardTestSupport
import Foundation
import Testing
import WebEid

/// The card's signature checked by an independent implementation: OpenSSL verifies it as an RS256
/// signature (`dgst -sha256`, PKCS#1 v1.5) over exactly the bytes Web eID specifies.
@Suite("Web eID signature checked by OpenSSL")
struct OpenSSLCompatibilityTests {
    @Test("openssl dgst -sha256 -verify accepts the card's signature over SHA-256(origin) ‖ SHA-256(nonce)")
    func opensslVerifies() throws {
        let directory = TestCards.temporaryDirectory("cpsd-webeid-openssl")
        defer { try? FileManager.default.removeItem(at: directory) }
        let origin = RelyingPartyTestSupport.siteA
        let nonce = ChallengeNonce.generate()
        let token = try WebEidTestTokens.token(origin: origin, nonce: nonce)
        let files = ["cert.der", "data.bin", "sig.bin", "other.bin"].map { directory.appendingPathComponent($0).path }
        try Data(try token.certificateDER()).write(to: URL(fileURLWithPath: files[0]))
        try Data(WebEidSignedData.data(origin: origin, nonce: nonce)).write(to: URL(fileURLWithPath: files[1]))
        try Data(try token.signatureBytes()).write(to: URL(fileURLWithPath: files[2]))
        let otherOrigin = RelyingPartyTestSupport.siteB
        try Data(WebEidSignedData.data(origin: otherOrigin, nonce: nonce)).write(to: URL(fileURLWithPath: files[3]))
        let publicKey = directory.appendingPathComponent("pub.pem").path
        let extract = try ToolRunner.run(
            "/usr/bin/openssl", ["x509", "-inform", "DER", "-in", files[0], "-pubkey", "-noout", "-out", publicKey])
        #expect(extract.status == 0, "\(extract.output)")
        let verify = try ToolRunner.run(
            "/usr/bin/openssl", ["dgst", "-sha256", "-verify", publicKey, "-signature", files[2], files[1]])
        #expect(verify.status == 0 && verify.stdout.contains("Verified OK"), "\(verify.output)")
        let wrong = try ToolRunner.run(
            "/usr/bin/openssl", ["dgst", "-sha256", "-verify", publicKey, "-signature", files[2], files[3]])
        #expect(wrong.status != 0 && wrong.stdout.contains("Verification failure"), "\(wrong.output)")
    }
}
