/// Primitive values read leniently from BER elements.
extension BERElement {
    /// A non-negative INTEGER that fits in Int (PKCS#15 lengths, references, versions).
    package func integer() throws(ASN1Error) -> Int {
        guard !value.isEmpty, value.count <= 8 else { throw ASN1Error(.invalidValue, "INTEGER of \(value.count) bytes") }
        guard value.first! & 0x80 == 0 else { throw ASN1Error(.invalidValue, "negative INTEGER") }
        return value.reduce(0) { $0 << 8 | Int($1) }
    }

    /// A card reference (PIN or key): cards write `80 01 81` for 0x81, a one-byte "negative" INTEGER in
    /// DER terms, so the bytes are read as an unsigned number.
    package func referenceValue() throws(ASN1Error) -> Int {
        guard !value.isEmpty, value.count <= 4 else { throw ASN1Error(.invalidValue, "reference of \(value.count) bytes") }
        return value.reduce(0) { $0 << 8 | Int($1) }
    }

    /// Text of a UTF8String / PrintableString / IA5String / context-tagged string. Invalid UTF-8 is
    /// repaired, not rejected: a label is for display.
    package func text() -> String { String(decoding: value, as: UTF8.self) }

    package func octets() -> [UInt8] { Array(value) }

    /// The bits of a BIT STRING as a set of bit numbers (bit 0 = the most significant bit of the
    /// first content byte). The unused-bits byte is ignored on purpose: CPS3 PKCS#15 files and some
    /// card certificates carry wrong values there (cps3-card.md §4.2), and PKCS#15 flags only ever
    /// test named bits.
    package func bits() throws(ASN1Error) -> Set<Int> {
        guard let unused = value.first else { throw ASN1Error(.invalidValue, "BIT STRING without its unused-bits byte") }
        _ = unused
        var set: Set<Int> = []
        for (byteIndex, byte) in value.dropFirst().enumerated() {
            for bit in 0..<8 where byte & (0x80 >> bit) != 0 { set.insert(byteIndex * 8 + bit) }
        }
        return set
    }

    /// BOOLEAN: any non-zero content is true (BER), an empty one is malformed.
    package func boolean() throws(ASN1Error) -> Bool {
        guard value.count == 1 else { throw ASN1Error(.invalidValue, "BOOLEAN of \(value.count) bytes") }
        return value.first! != 0
    }
}

extension Array where Element == BERElement {
    /// The first child with `tag`, if any.
    package func first(tag: UInt32) -> BERElement? { first { $0.tag == tag } }

    /// The first child with `tag`, or a missing-field error naming `field`.
    package func required(tag: UInt32, _ field: String) throws(ASN1Error) -> BERElement {
        guard let element = first(tag: tag) else {
            throw ASN1Error(.missingField, "\(field) (tag 0x\(String(tag, radix: 16, uppercase: true)))")
        }
        return element
    }
}

/// Universal and context tags used by PKCS#15 (ISO/IEC 7816-15).
package enum BERTag {
    package static let boolean: UInt32 = 0x01
    package static let integer: UInt32 = 0x02
    package static let bitString: UInt32 = 0x03
    package static let octetString: UInt32 = 0x04
    package static let enumerated: UInt32 = 0x0A
    package static let utf8String: UInt32 = 0x0C
    package static let sequence: UInt32 = 0x30
    package static func context(_ number: UInt32, constructed: Bool) -> UInt32 {
        (constructed ? 0xA0 : 0x80) | number
    }
}
