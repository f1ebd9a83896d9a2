/// A VERIFY whose code the reader collects on its own keypad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT): the
/// digits never cross the computer. The reader completes `header` (CLA INS P1 P2) with Lc and the digits
/// typed, as ASCII, and answers with the card's status word, or with its own: `6400` (no key in time),
/// `6401` (the person cancelled), `6403` (too few or too many digits).
package struct PINPadVerify: Sendable, Hashable {
    package var header: [UInt8]
    package var minDigits: Int
    package var maxDigits: Int
    /// Seconds the reader waits for the keys.
    package var timeout: UInt8

    package init(header: [UInt8], minDigits: Int, maxDigits: Int, timeout: UInt8 = 30) {
        self.header = header
        self.minDigits = minDigits
        self.maxDigits = maxDigits
        self.timeout = timeout
    }

    /// The reader's own status words (PC/SC part 10 §2.6.3).
    package static let timedOut: UInt16 = 0x6400
    package static let cancelled: UInt16 = 0x6401
    package static let lengthRefused: UInt16 = 0x6403
}

extension CardSession {
    /// The reader takes the code on its keypad and sends the VERIFY itself. Counted as one exchange.
    package mutating func verifyOnPINPad(_ verify: PINPadVerify) throws(CardError) -> ResponseAPDU {
        let raw = try connectionVerifyOnPINPad(verify)
        do {
            return try ResponseAPDU(bytes: raw)
        } catch {
            throw CardError(.transmitFailed, "the PIN pad's answer: \(error.reason)")
        }
    }
}
