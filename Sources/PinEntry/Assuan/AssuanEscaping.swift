/// Assuan's percent escaping, both ways.
///
/// A line ends at its line feed, so an argument must not contain one: Assuan escapes `%`, CR and LF as
/// `%25`, `%0D`, `%0A`, and pinentry unescapes every `%XX` in the texts it shows (SETDESC, SETPROMPT,
/// SETERROR, SETOK, …). We escape every other control byte too, which pinentry decodes the same way.
enum AssuanEscaping {
    /// Assuan's line limit, without the line feed.
    static let maximumLineLength = 1000

    /// `VERB escaped-value` as the bytes of one line (with its line feed). A value too long for one line
    /// is cut at a character boundary and ends with "…", rather than failing the whole request.
    static func commandLine(_ verb: String, _ value: String) -> [UInt8] {
        var line = Array(verb.utf8)
        line.append(UInt8(ascii: " "))
        let ellipsis = Array("…".utf8)
        let limit = maximumLineLength - ellipsis.count
        for scalar in value.unicodeScalars {
            let escaped = escape(scalar)
            guard line.count + escaped.count <= limit else {
                line += ellipsis
                break
            }
            line += escaped
        }
        line.append(0x0A)
        return line
    }

    /// A line with no argument (or an argument we wrote ourselves and know to be plain), with its line feed.
    static func commandLine(_ text: String) -> [UInt8] {
        Array(text.utf8) + [0x0A]
    }

    private static func escape(_ scalar: Unicode.Scalar) -> [UInt8] {
        guard scalar.value < 0x20 || scalar == "%" || scalar.value == 0x7F else { return Array(String(scalar).utf8) }
        let hex = Array("0123456789ABCDEF".utf8)
        let value = Int(scalar.value)
        return [UInt8(ascii: "%"), hex[value >> 4], hex[value & 0x0F]]
    }

    /// Decodes the payload of a `D` line (`%XX` → one byte) straight into `target`, with no copy in
    /// between. A `%` not followed by two hex digits is a protocol error.
    static func decode(_ payload: ArraySlice<UInt8>, into target: PINAccumulator) throws(PinEntryError) {
        var index = payload.startIndex
        while index < payload.endIndex {
            let byte = payload[index]
            guard byte == UInt8(ascii: "%") else {
                try target.append(byte)
                index += 1
                continue
            }
            guard index + 2 < payload.endIndex,
                let high = hexValue(payload[index + 1]), let low = hexValue(payload[index + 2])
            else {
                throw PinEntryError(.protocolError, "pinentry sent a malformed %-escape in a data line")
            }
            try target.append(high << 4 | low)
            index += 3
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
