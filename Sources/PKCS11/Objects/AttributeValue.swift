/// How attribute values are laid out in memory for the C caller: CK_ULONG is the platform's unsigned
/// long (8 bytes, little-endian on x86_64/arm64 Linux), CK_BBOOL one byte, the rest byte arrays.
package enum AttributeValue {
    package static func ulong(_ value: UInt) -> [UInt8] {
        (0..<MemoryLayout<UInt>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    package static func bool(_ value: Bool) -> [UInt8] { [value ? 1 : 0] }

    package static func utf8(_ value: String) -> [UInt8] { Array(value.utf8) }

    /// Reads a CK_ULONG value back (templates); nil when the length is not a CK_ULONG's.
    package static func readULong(_ bytes: [UInt8]) -> UInt? {
        guard bytes.count == MemoryLayout<UInt>.size else { return nil }
        return bytes.enumerated().reduce(UInt(0)) { $0 | UInt($1.element) << (8 * $1.offset) }
    }
}
