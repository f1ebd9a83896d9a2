import CP11Kit
import PKCS11
import PKCS11Constants
import SmartCardCore

/// CK types to Swift and back. Nothing here knows PKCS#11 semantics beyond the buffer conventions.
enum Convert {
    /// Fills a fixed-size CK char array (a tuple) with `text` padded with blanks, cut at a UTF-8 boundary.
    static func blankPadded<T>(_ field: inout T, _ text: String) {
        withUnsafeMutableBytes(of: &field) { raw in
            let bytes = Array(text.utf8)
            var length = min(bytes.count, raw.count)
            while length > 0, length < bytes.count, bytes[length] & 0xC0 == 0x80 { length -= 1 }
            for index in 0..<raw.count { raw[index] = index < length ? bytes[index] : 0x20 }
        }
    }

    static func version(_ version: (major: UInt8, minor: UInt8)) -> CK_VERSION {
        CK_VERSION(major: version.major, minor: version.minor)
    }

    /// Bytes the caller passed in (NULL with length 0 is an empty array).
    static func bytes(_ pointer: UnsafePointer<UInt8>?, _ length: UInt) throws(PKCS11Error) -> [UInt8] {
        guard length > 0 else { return [] }
        guard let pointer else { throw PKCS11Error(.argumentsBad) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(clamping: length)))
    }

    /// A PIN the caller passed in, straight into zeroed-on-release storage (never an Array or a String).
    static func secret(_ pointer: UnsafePointer<UInt8>?, _ length: UInt) throws(PKCS11Error) -> SecretBytes {
        guard let pointer else { throw PKCS11Error(.argumentsBad, "no PIN (protected authentication path)") }
        let count = Int(clamping: length)
        guard count <= 64 else { throw PKCS11Error(.pinLenRange) }
        return SecretBytes(count: count) { target in
            for index in 0..<count { target[index] = pointer[index] }
        }
    }

    /// The list convention: NULL buffer → count only; too small → count and CKR_BUFFER_TOO_SMALL.
    static func list(_ values: [UInt], _ buffer: UnsafeMutablePointer<UInt>?, _ count: UnsafeMutablePointer<UInt>?)
        -> CKR
    {
        guard let count else { return .argumentsBad }
        defer { count.pointee = UInt(values.count) }
        guard let buffer else { return .ok }
        return copy(values, into: buffer, capacity: count.pointee) ? .ok : .bufferTooSmall
    }

    /// Output buffers (C_Sign, C_SignFinal) described by `OutputResult`.
    static func output(
        _ result: OutputResult, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: UnsafeMutablePointer<UInt>?
    ) -> CKR {
        guard let length else { return .argumentsBad }
        switch result {
        case .length(let count):
            length.pointee = UInt(count)
            return .ok
        case .bufferTooSmall(let count):
            length.pointee = UInt(count)
            return .bufferTooSmall
        case .value(let bytes):
            guard let buffer else { return .argumentsBad }
            // The caller's buffer holds `*length` bytes, whatever the layers below computed: a card that
            // answers more than its certificate promised gets CKR_BUFFER_TOO_SMALL, never a write past it.
            guard copy(bytes, into: buffer, capacity: length.pointee) else {
                length.pointee = UInt(bytes.count)
                return .bufferTooSmall
            }
            length.pointee = UInt(bytes.count)
            return .ok
        }
    }

    /// Zeroes the bytes of an output (a plaintext) once they were copied to the caller: this array is the
    /// last copy the daemon holds.
    static func wipe(_ result: inout OutputResult) {
        guard case .value(var bytes) = result else { return }
        result = .length(0)
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// Copies `values` into a caller's buffer of `capacity` elements, or writes nothing and returns false
    /// when they do not fit. Every copy into memory the caller owns goes through here.
    static func copy<T>(_ values: [T], into buffer: UnsafeMutablePointer<T>, capacity: UInt) -> Bool {
        guard UInt(values.count) <= capacity else { return false }
        values.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            buffer.update(from: base, count: source.count)
        }
        return true
    }

    /// The capacity of an output buffer: nil for a NULL buffer (a length query).
    static func capacity(_ buffer: UnsafeMutablePointer<UInt8>?, _ length: UnsafeMutablePointer<UInt>?)
        throws(PKCS11Error) -> Int?
    {
        guard let length else { throw PKCS11Error(.argumentsBad) }
        return buffer == nil ? nil : Int(clamping: length.pointee)
    }

    /// A search template.
    static func template(_ pointer: UnsafeMutablePointer<CK_ATTRIBUTE>?, _ count: UInt) throws(PKCS11Error)
        -> [Attribute]
    {
        guard count > 0 else { return [] }
        guard let pointer else { throw PKCS11Error(.argumentsBad) }
        var attributes: [Attribute] = []
        for index in 0..<Int(clamping: count) {
            let attribute = pointer[index]
            let value = try bytes(attribute.pValue?.assumingMemoryBound(to: UInt8.self), attribute.ulValueLen)
            attributes.append(Attribute(type: CKA(rawValue: attribute.type), value: value))
        }
        return attributes
    }

    static func mechanism(_ pointer: UnsafeMutablePointer<CK_MECHANISM>?) throws(PKCS11Error) -> Mechanism {
        guard let mechanism = pointer?.pointee else { throw PKCS11Error(.argumentsBad) }
        let parameter =
            mechanism.pParameter == nil
            ? nil : try bytes(mechanism.pParameter.assumingMemoryBound(to: UInt8.self), mechanism.ulParameterLen)
        return Mechanism(type: CKM(rawValue: mechanism.mechanism), parameter: parameter)
    }
}
