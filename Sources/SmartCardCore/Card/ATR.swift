import ErrorShape
/// An Answer-To-Reset (ISO/IEC 7816-3 §8.2): the bytes a card sends at power-on, parsed into its
/// interface bytes, offered protocols and historical bytes.
package struct ATR: Hashable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]
    /// Transmission protocols offered (T=0 is implied when no TD byte names another).
    package let protocols: Set<Int>
    package let historicalBytes: [UInt8]

    /// Parses an ATR. Throws `ATRFormatError` when the bytes are shorter than their own structure says.
    package init(bytes: [UInt8]) throws(ATRFormatError) {
        guard bytes.count >= 2 else { throw ATRFormatError(.malformed, "fewer than 2 bytes") }
        guard bytes[0] == 0x3B || bytes[0] == 0x3F else {
            throw ATRFormatError(.malformed, "TS \(Hex.string(from: [bytes[0]])) is neither 3B nor 3F")
        }
        var index = 1
        var indicator = bytes[1]  // T0, then each TDi
        let historicalCount = Int(bytes[1] & 0x0F)
        var protocols: Set<Int> = []
        index = 2
        while true {
            // TAi, TBi, TCi present according to bits 5, 6, 7; TDi according to bit 8.
            for bit in [UInt8(0x10), 0x20, 0x40] where indicator & bit != 0 { index += 1 }
            guard indicator & 0x80 != 0 else { break }
            guard index < bytes.count else { throw ATRFormatError(.malformed, "TD byte missing at offset \(index)") }
            indicator = bytes[index]
            protocols.insert(Int(indicator & 0x0F))
            index += 1
        }
        guard index + historicalCount <= bytes.count else {
            throw ATRFormatError(.malformed, "\(historicalCount) historical bytes announced, \(bytes.count - index) present")
        }
        if protocols.isEmpty { protocols = [0] }
        self.bytes = bytes
        self.protocols = protocols
        self.historicalBytes = Array(bytes[index..<(index + historicalCount)])
    }

    /// Only T=0 is offered: the reader must use 61xx/GET RESPONSE and 6Cxx handling.
    package var isT0Only: Bool { protocols == [0] }

    package var description: String { Hex.string(from: bytes) }
}

/// Bytes that are not an ATR (ISO/IEC 7816-3 §8): shorter than their own structure says.
package struct ATRFormatError: CodedError {
    package enum Code: String, ErrorCode {
        case malformed = "malformed ATR"
    }
    package let code: Code
    package let reason: String
    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
