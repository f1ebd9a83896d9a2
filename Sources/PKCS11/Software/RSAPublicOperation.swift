import PKCS11Constants

/// Raw RSA with a public key (m = s^e mod n, RFC 8017 §5.2.2), in plain Swift. swift-crypto's _CryptoExtras
/// only verifies PKCS#1 v1.5 over a Digest and PSS with sLen = hLen; Cryptolib also verifies CKM_RSA_X_509,
/// CKM_RSA_PKCS over any data, and PSS with the caller's sLen (cryptolib-pkcs11.md §8.7), which all need the
/// bare public operation. Public data only: no constant-time requirement.
package struct RSAPublicOperation: Sendable, Hashable {
    /// Big-endian, without leading zero bytes.
    package let modulus: [UInt8]
    package let publicExponent: [UInt8]
    private let context: Montgomery

    package init?(modulus: [UInt8], publicExponent: [UInt8]) {
        let modulus = Array(modulus.drop { $0 == 0 })
        guard let context = Montgomery(modulus: modulus), publicExponent.contains(where: { $0 != 0 }) else {
            return nil
        }
        self.modulus = modulus
        self.publicExponent = publicExponent
        self.context = context
    }

    /// The modulus length in bytes (k of RFC 8017).
    package var length: Int { modulus.count }

    /// s^e mod n as k bytes, or nil when `input` is not k bytes or not below n (RSAVP1 "signature
    /// representative out of range").
    package func apply(_ input: [UInt8]) -> [UInt8]? {
        guard input.count == length else { return nil }
        let base = Montgomery.limbs(input, count: context.count)
        guard Montgomery.compare(base, context.modulus) < 0 else { return nil }
        let baseM = context.multiply(base, context.rSquared)
        var result = context.multiply(Montgomery.limbs([1], count: context.count), context.rSquared)
        for byte in publicExponent {
            for bit in (0..<8).reversed() {
                result = context.multiply(result, result)
                if byte >> bit & 1 == 1 { result = context.multiply(result, baseM) }
            }
        }
        result = context.multiply(result, Montgomery.limbs([1], count: context.count))
        return Montgomery.bytes(result, length: length)
    }
}

/// Montgomery multiplication modulo an odd n with 32-bit limbs (CIOS, Koç et al. 1996).
private struct Montgomery: Sendable, Hashable {
    let modulus: [UInt32]
    let count: Int
    /// -n⁻¹ mod 2³².
    let inverse: UInt32
    /// R² mod n, R = 2^(32·count): converts into the Montgomery domain.
    let rSquared: [UInt32]

    init?(modulus bytes: [UInt8]) {
        guard let last = bytes.last, last & 1 == 1, bytes.count >= 2 else { return nil }
        count = (bytes.count + 3) / 4
        modulus = Self.limbs(bytes, count: count)
        var x = modulus[0]  // correct to 3 bits; each Newton step doubles that
        for _ in 0..<5 { x = x &* (2 &- modulus[0] &* x) }
        inverse = 0 &- x
        var r = Self.limbs([1], count: count)
        for _ in 0..<(64 * count) { Self.doubleModulo(&r, modulus) }
        rSquared = r
    }

    /// a·b·R⁻¹ mod n, for a, b < n.
    func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var t = [UInt32](repeating: 0, count: count + 2)
        for i in 0..<count {
            var carry: UInt64 = 0
            for j in 0..<count {
                let sum = UInt64(t[j]) + UInt64(a[j]) * UInt64(b[i]) + carry
                t[j] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            var sum = UInt64(t[count]) + carry
            t[count] = UInt32(truncatingIfNeeded: sum)
            t[count + 1] = UInt32(sum >> 32)
            let m = t[0] &* inverse
            sum = UInt64(t[0]) + UInt64(m) * UInt64(modulus[0])
            carry = sum >> 32
            for j in 1..<count {
                sum = UInt64(t[j]) + UInt64(m) * UInt64(modulus[j]) + carry
                t[j - 1] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            sum = UInt64(t[count]) + carry
            t[count - 1] = UInt32(truncatingIfNeeded: sum)
            t[count] = t[count + 1] &+ UInt32(sum >> 32)
        }
        var result = Array(t[0..<count])
        if t[count] != 0 || Self.compare(result, modulus) >= 0 { Self.subtract(&result, modulus) }
        return result
    }

    /// x = 2x mod n, for x < n.
    static func doubleModulo(_ x: inout [UInt32], _ n: [UInt32]) {
        var carry: UInt32 = 0
        for index in x.indices {
            let next = x[index] >> 31
            x[index] = x[index] << 1 | carry
            carry = next
        }
        if carry != 0 || compare(x, n) >= 0 { subtract(&x, n) }
    }

    /// x -= n modulo 2^(32·count).
    static func subtract(_ x: inout [UInt32], _ n: [UInt32]) {
        var borrow: UInt32 = 0
        for index in x.indices {
            let (partial, overflow1) = x[index].subtractingReportingOverflow(n[index])
            let (result, overflow2) = partial.subtractingReportingOverflow(borrow)
            x[index] = result
            borrow = (overflow1 || overflow2) ? 1 : 0
        }
    }

    static func compare(_ a: [UInt32], _ b: [UInt32]) -> Int {
        for index in a.indices.reversed() where a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
        return 0
    }

    /// Big-endian bytes to little-endian limbs.
    static func limbs(_ bytes: [UInt8], count: Int) -> [UInt32] {
        var limbs = [UInt32](repeating: 0, count: count)
        for (offset, byte) in bytes.reversed().enumerated() where offset / 4 < count {
            limbs[offset / 4] |= UInt32(byte) << (8 * (offset % 4))
        }
        return limbs
    }

    static func bytes(_ limbs: [UInt32], length: Int) -> [UInt8] {
        (0..<length).reversed().map { offset in UInt8(truncatingIfNeeded: limbs[offset / 4] >> (8 * (offset % 4))) }
    }
}
