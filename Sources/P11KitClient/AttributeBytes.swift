/// A CK_ULONG attribute value as the C side lays it out: 8 bytes, little-endian (x86_64/arm64 Linux).
package enum AttributeBytes {
    package static func ulong(_ value: UInt) -> [UInt8] {
        (0..<MemoryLayout<UInt>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
