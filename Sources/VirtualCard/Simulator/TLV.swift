/// A small BER-TLV / DER writer and reader for what the card emits and parses: FCPs, DOCPs, CRTs and
/// the PKCS#15 files (ISO/IEC 7816-4 §5.2, X.690 §8-§10). Tags are given as their encoded bytes.
enum TLV {
    /// Tag ‖ DER length ‖ value.
    static func encode(_ tag: [UInt8], _ value: [UInt8]) -> [UInt8] {
        tag + length(value.count) + value
    }

    static func encode(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] { encode([tag], value) }

    /// Definite length, short form below 128, long form otherwise (X.690 §8.1.3).
    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var rest = count
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    // MARK: - DER universal types

    static func sequence(_ elements: [UInt8]...) -> [UInt8] { encode(0x30, elements.flatMap { $0 }) }
    static func octetString(_ bytes: [UInt8]) -> [UInt8] { encode(0x04, bytes) }
    static func utf8String(_ text: String) -> [UInt8] { encode(0x0C, Array(text.utf8)) }
    static func boolean(_ value: Bool) -> [UInt8] { [0x01, 0x01, value ? 0xFF : 0x00] }
    static func enumerated(_ value: Int) -> [UInt8] { encode(0x0A, integerContent(value)) }
    static func integer(_ value: Int) -> [UInt8] { encode(0x02, integerContent(value)) }

    /// Minimal two's-complement content of a non-negative integer (X.690 §8.3.2).
    static func integerContent(_ value: Int) -> [UInt8] {
        precondition(value >= 0, "only non-negative integers are used")
        var bytes: [UInt8] = [UInt8(value & 0xFF)]
        var rest = value >> 8
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return bytes
    }

    /// A named-bit BIT STRING with trailing zero bits removed (X.690 §11.2.2). Bit 0 is the first bit.
    static func bitString(namedBits: [Int], tag: UInt8 = 0x03) -> [UInt8] {
        guard let highest = namedBits.max() else { return encode(tag, [0x00]) }
        var bytes = [UInt8](repeating: 0, count: highest / 8 + 1)
        for bit in namedBits { bytes[bit / 8] |= 0x80 >> UInt8(bit % 8) }
        let unused = UInt8(7 - highest % 8)
        return encode(tag, [unused] + bytes)
    }

    // MARK: - Reading

    /// One element read from a TLV list: single-byte tag, short or long-form length.
    struct Element: Equatable {
        var tag: UInt8
        var value: [UInt8]
    }

    /// Parses a flat list of single-byte-tag TLVs; nil when the bytes are not exactly such a list.
    static func parseList(_ bytes: [UInt8]) -> [Element]? {
        var elements: [Element] = []
        var index = 0
        while index < bytes.count {
            let tag = bytes[index]
            guard index + 1 < bytes.count else { return nil }
            var count = Int(bytes[index + 1])
            var valueStart = index + 2
            if count == 0x81 {
                guard index + 2 < bytes.count else { return nil }
                count = Int(bytes[index + 2])
                valueStart += 1
            } else if count > 0x80 {
                return nil
            }
            guard valueStart + count <= bytes.count else { return nil }
            elements.append(Element(tag: tag, value: Array(bytes[valueStart..<(valueStart + count)])))
            index = valueStart + count
        }
        return elements
    }
}
