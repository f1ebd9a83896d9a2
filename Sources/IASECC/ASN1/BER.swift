import ErrorShape
import SmartCardCore

/// A lenient, bounds-checked BER reader for what real CPS3 cards contain (cps3-card.md §4.2): it
/// accepts non-DER encodings (long-form lengths where short would do, BIT STRINGs whose unused-bits
/// byte disagrees with their content) but never reads past its input, never recurses without limit,
/// and reports every malformation as an `ASN1Error`.
package struct BERElement: Hashable, Sendable {
    /// The identifier octets folded into one value: class and constructed bits kept, so 0x30 is
    /// SEQUENCE, 0xA0 is [0] constructed, 0x80 is [0] primitive; multi-byte tags as 0x9F46 etc.
    package let tag: UInt32
    package let value: ArraySlice<UInt8>
    /// The whole encoding, identifier and length included.
    package let encoded: ArraySlice<UInt8>

    package var isConstructed: Bool { firstIdentifierOctet & 0x20 != 0 }

    private var firstIdentifierOctet: UInt8 {
        var t = tag
        while t > 0xFF { t >>= 8 }
        return UInt8(t)
    }

    /// The children of a constructed element.
    package func children() throws(ASN1Error) -> [BERElement] {
        guard isConstructed else { throw ASN1Error(.unexpectedTag, "element \(tagText) is primitive") }
        return try BERElement.sequence(value)
    }

    package var tagText: String { "0x" + String(tag, radix: 16, uppercase: true) }

    /// Parses exactly one element filling `bytes`.
    package static func single(_ bytes: some Collection<UInt8>) throws(ASN1Error) -> BERElement {
        let slice = ArraySlice(bytes)
        var reader = Reader(slice)
        let element = try reader.next()
        guard reader.isAtEnd else { throw ASN1Error(.trailingData, "\(reader.remaining) byte(s) after the element") }
        return element
    }

    /// Parses consecutive elements filling `bytes`. Trailing 0x00/0xFF padding (unused space at the end
    /// of a PKCS#15 EF) ends the list.
    package static func sequence(_ bytes: ArraySlice<UInt8>) throws(ASN1Error) -> [BERElement] {
        var reader = Reader(bytes)
        var elements: [BERElement] = []
        while !reader.isAtEnd && !reader.atPadding {
            elements.append(try reader.next())
            guard elements.count <= 4096 else { throw ASN1Error(.tooLarge, "more than 4096 elements") }
        }
        return elements
    }

    struct Reader {
        private let bytes: ArraySlice<UInt8>
        private var index: Int

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.index = bytes.startIndex
        }

        var isAtEnd: Bool { index >= bytes.endIndex }
        var remaining: Int { bytes.endIndex - index }
        var atPadding: Bool { bytes[index...].allSatisfy { $0 == 0x00 } || bytes[index...].allSatisfy { $0 == 0xFF } }

        mutating func next() throws(ASN1Error) -> BERElement {
            let start = index
            let tag = try readTag()
            let length = try readLength()
            guard length <= remaining else {
                throw ASN1Error(.truncated, "element 0x\(String(tag, radix: 16)) claims \(length) bytes, \(remaining) remain")
            }
            let value = bytes[index..<(index + length)]
            index += length
            return BERElement(tag: tag, value: value, encoded: bytes[start..<index])
        }

        private mutating func byte() throws(ASN1Error) -> UInt8 {
            guard index < bytes.endIndex else { throw ASN1Error(.truncated, "input ends inside a header") }
            defer { index += 1 }
            return bytes[index]
        }

        private mutating func readTag() throws(ASN1Error) -> UInt32 {
            let first = try byte()
            var tag = UInt32(first)
            guard first & 0x1F == 0x1F else { return tag }
            for _ in 0..<3 {  // high-tag-number form: at most 3 more octets
                let next = try byte()
                tag = tag << 8 | UInt32(next)
                if next & 0x80 == 0 { return tag }
            }
            throw ASN1Error(.unsupported, "tag longer than 4 octets")
        }

        private mutating func readLength() throws(ASN1Error) -> Int {
            let first = try byte()
            if first < 0x80 { return Int(first) }
            let count = Int(first & 0x7F)
            guard count > 0 else { throw ASN1Error(.unsupported, "indefinite length") }
            guard count <= 3 else { throw ASN1Error(.tooLarge, "length of \(count) octets") }
            var length = 0
            for _ in 0..<count { length = length << 8 | Int(try byte()) }
            return length
        }
    }
}

package struct ASN1Error: CodedError {
    package enum Code: String, ErrorCode {
        case truncated, trailingData, unexpectedTag, unsupported, tooLarge, invalidValue, missingField
    }
    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { "ASN.1 \(code.rawValue): \(reason)" }
}
