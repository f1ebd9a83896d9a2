import Foundation

/// The relying party's challenge (browser-and-psc.md §2.5): at least 256 bits from a secure generator,
/// sent and signed as its base64 text.
package enum ChallengeNonce {
    /// Web eID's bounds: 32 random bytes in base64 are 44 characters; 128 leaves room for other encodings.
    package static let lengthRange = 44...128
    /// Bytes of randomness in a generated nonce (256 bits).
    package static let randomByteCount = 32

    /// Refuses a nonce the card must not sign: a wrong length, or characters outside printable ASCII
    /// (no spaces or controls, so what the pinentry dialog or a log shows is what is signed).
    package static func validate(_ nonce: String) throws(WebEidError) {
        let scalars = nonce.unicodeScalars
        guard lengthRange.contains(scalars.count) else {
            let bounds = "\(lengthRange.lowerBound) to \(lengthRange.upperBound)"
            throw WebEidError(.invalidNonce, "the challenge nonce must be \(bounds) characters, got \(scalars.count)")
        }
        guard scalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw WebEidError(.invalidNonce, "the challenge nonce must be printable ASCII without spaces")
        }
    }

    /// 32 bytes from the system's cryptographic generator (getrandom on Linux), standard base64: 44 characters.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<randomByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
