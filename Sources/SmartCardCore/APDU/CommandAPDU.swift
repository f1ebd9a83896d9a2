import ErrorShape
/// A command APDU (ISO/IEC 7816-3 §12.1, ISO/IEC 7816-4 §5.1): header CLA INS P1 P2, optional data
/// (Lc), optional expected length (Le).
///
/// `expectedLength` is the number of bytes expected, 1...65536; `nil` means no Le field. Short encoding
/// is used whenever data ≤ 255 bytes and Le ≤ 256, extended encoding otherwise.
package struct CommandAPDU: Hashable, Sendable {
    package var cla: UInt8
    package var ins: UInt8
    package var p1: UInt8
    package var p2: UInt8
    package var data: [UInt8]
    package var expectedLength: Int?

    package init(cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], expectedLength: Int? = nil) {
        precondition(data.count <= 65535, "command data longer than an extended Lc can carry")
        precondition(expectedLength.map { (1...65536).contains($0) } ?? true, "Le out of range")
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.expectedLength = expectedLength
    }

    package var isExtended: Bool { data.count > 255 || (expectedLength ?? 0) > 256 }

    /// The bytes sent to the card.
    package var bytes: [UInt8] {
        var out: [UInt8] = [cla, ins, p1, p2]
        if isExtended {
            out.append(0x00)
            if !data.isEmpty {
                out += [UInt8(data.count >> 8), UInt8(data.count & 0xFF)]
                out += data
            }
            if let le = expectedLength {
                let encoded = le == 65536 ? 0 : le
                out += [UInt8(encoded >> 8), UInt8(encoded & 0xFF)]
            }
        } else {
            if !data.isEmpty {
                out.append(UInt8(data.count))
                out += data
            }
            if let le = expectedLength { out.append(le == 256 ? 0 : UInt8(le)) }
        }
        return out
    }

    /// Parses the bytes of a command APDU, short or extended. Throws `APDUFormatError` for anything
    /// that is not one of the four ISO cases: a simulator answers those with 6700.
    package init(bytes: [UInt8]) throws(APDUFormatError) {
        guard bytes.count >= 4 else { throw APDUFormatError(.malformed, "command shorter than its 4-byte header") }
        let header = (bytes[0], bytes[1], bytes[2], bytes[3])
        let body = Array(bytes.dropFirst(4))
        var data: [UInt8] = []
        var le: Int?
        switch body.count {
        case 0:
            break
        case 1:
            le = body[0] == 0 ? 256 : Int(body[0])
        case _ where body[0] != 0:
            let lc = Int(body[0])
            if body.count == 1 + lc {
                data = Array(body[1...])
            } else if body.count == 2 + lc {
                data = Array(body[1...lc])
                le = body[lc + 1] == 0 ? 256 : Int(body[lc + 1])
            } else {
                throw APDUFormatError(.malformed, "Lc \(lc) does not match the \(body.count - 1) bytes that follow")
            }
        default:
            (data, le) = try Self.parseExtended(body)
        }
        self.init(cla: header.0, ins: header.1, p1: header.2, p2: header.3, data: data, expectedLength: le)
    }

    private static func parseExtended(_ body: [UInt8]) throws(APDUFormatError) -> ([UInt8], Int?) {
        // body[0] == 0 and body.count >= 2
        if body.count == 3 {
            let le = Int(body[1]) << 8 | Int(body[2])
            return ([], le == 0 ? 65536 : le)
        }
        guard body.count > 3 else { throw APDUFormatError(.malformed, "truncated extended length") }
        let lc = Int(body[1]) << 8 | Int(body[2])
        guard lc > 0 else { throw APDUFormatError(.malformed, "extended Lc of zero") }
        if body.count == 3 + lc { return (Array(body[3...]), nil) }
        if body.count == 5 + lc {
            let le = Int(body[3 + lc]) << 8 | Int(body[4 + lc])
            return (Array(body[3..<(3 + lc)]), le == 0 ? 65536 : le)
        }
        throw APDUFormatError(.malformed, "extended Lc \(lc) does not match the \(body.count - 3) bytes that follow")
    }
}

/// A byte string that is not a well-formed APDU.
package struct APDUFormatError: CodedError {
    package enum Code: String, ErrorCode {
        case malformed = "malformed APDU"
    }
    package let code: Code
    package let reason: String
    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
