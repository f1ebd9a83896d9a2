/// A response APDU: data field followed by the status word (ISO/IEC 7816-4 §5.1).
package struct ResponseAPDU: Hashable, Sendable {
    package var data: [UInt8]
    package var statusWord: StatusWord

    package init(data: [UInt8] = [], statusWord: StatusWord) {
        self.data = data
        self.statusWord = statusWord
    }

    /// Splits raw response bytes. Fewer than two bytes is not a response: vpcd, for one, returns
    /// success with zero bytes when the card vanished mid-exchange (virtual-reader-stack.md §2.5).
    package init(bytes: [UInt8]) throws(APDUFormatError) {
        guard bytes.count >= 2 else {
            throw APDUFormatError(.malformed, "response of \(bytes.count) byte(s) has no status word")
        }
        self.data = Array(bytes.dropLast(2))
        self.statusWord = StatusWord(sw1: bytes[bytes.count - 2], sw2: bytes[bytes.count - 1])
    }

    package var bytes: [UInt8] { data + [statusWord.sw1, statusWord.sw2] }
}
