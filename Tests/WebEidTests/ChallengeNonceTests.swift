import Foundation
import Testing
import WebEid

@Suite("Challenge nonces")
struct ChallengeNonceTests {
    @Test("a generated nonce is 32 random bytes in standard base64: 44 characters, accepted by validate")
    func generated() throws {
        let nonce = ChallengeNonce.generate()
        #expect(nonce.count == 44)
        #expect(Data(base64Encoded: nonce)?.count == 32)
        try ChallengeNonce.validate(nonce)
        let many = Set((0..<100).map { _ in ChallengeNonce.generate() })
        #expect(many.count == 100)
    }

    @Test("44 and 128 characters are the bounds")
    func bounds() throws {
        try ChallengeNonce.validate(String(repeating: "A", count: 44))
        try ChallengeNonce.validate(String(repeating: "A", count: 128))
        for length in [0, 1, 43, 129, 1000] {
            #expect(throws: WebEidError(.invalidNonce, "")) {
                try ChallengeNonce.validate(String(repeating: "A", count: length))
            }
        }
    }

    @Test("spaces, controls and non-ASCII are refused even at a valid length")
    func characters() {
        let base = String(repeating: "A", count: 43)
        for odd in [" ", "\n", "\u{7F}", "é", "\u{0}"] {
            #expect(throws: WebEidError(.invalidNonce, "")) { try ChallengeNonce.validate(base + odd) }
        }
        // 44 characters but one is a multi-scalar emoji: counted by scalars, and refused as non-ASCII anyway.
        #expect(throws: WebEidError(.invalidNonce, "")) { try ChallengeNonce.validate(base + "🇫🇷") }
    }
}
