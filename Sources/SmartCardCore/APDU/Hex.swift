/// Hexadecimal text for bytes, and back. Used by logs, the CLI and test fixtures.
package enum Hex {
    private static let digits = Array("0123456789ABCDEF".utf8)

    package static func string(from bytes: some Sequence<UInt8>, separator: String = " ") -> String {
        var out = ""
        for (index, byte) in bytes.enumerated() {
            if index > 0 { out += separator }
            out.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
            out.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0x0F)]))
        }
        return out
    }

    /// Parses hex digits, ignoring spaces, colons and tabs between byte pairs.
    /// Returns nil for an odd digit count or any other character.
    package static func bytes(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        var high: UInt8?
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == ":" || scalar == "\t" || scalar == "\n" {
                if high != nil { return nil }
                continue
            }
            guard let nibble = nibble(scalar) else { return nil }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? out : nil
    }

    private static func nibble(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x30...0x39: UInt8(scalar.value - 0x30)
        case 0x41...0x46: UInt8(scalar.value - 0x41 + 10)
        case 0x61...0x66: UInt8(scalar.value - 0x61 + 10)
        default: nil
        }
    }
}
