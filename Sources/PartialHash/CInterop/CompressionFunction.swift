/// The block compression of a Merkle–Damgård hash from FIPS 180-4: the part of SHA-1 and SHA-256 that
/// CryptoKit and swift-crypto keep hidden, and that the IAS-ECC "partial hash" needs in the open
/// (reference `cps3-card.md` §6.1, DESIGN.md decision 6).
package protocol CompressionFunction: Sendable {
    /// H(0), the initial hash value (FIPS 180-4 §5.3).
    static var initialHashValue: [UInt32] { get }
    /// Processes one 64-byte block into `hash` (FIPS 180-4 §6). `block` holds exactly 64 bytes.
    static func compress(_ hash: inout [UInt32], block: UnsafeRawBufferPointer)
}

/// Both functions here use 512-bit blocks and a 64-bit big-endian length (FIPS 180-4 §5.1.1).
package let hashBlockByteCount = 64

@inline(__always)
private func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value >> count) | (value << (32 &- count))
}

@inline(__always)
private func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value << count) | (value >> (32 &- count))
}

@inline(__always)
private func bigEndianWord(_ block: UnsafeRawBufferPointer, _ index: Int) -> UInt32 {
    let offset = index &* 4
    return UInt32(block[offset]) << 24 | UInt32(block[offset &+ 1]) << 16
        | UInt32(block[offset &+ 2]) << 8 | UInt32(block[offset &+ 3])
}

/// SHA-256 (FIPS 180-4 §6.2).
package enum SHA256Compression: CompressionFunction {
    /// FIPS 180-4 §5.3.3.
    package static let initialHashValue: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]

    /// K{256}, FIPS 180-4 §4.2.2.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    package static func compress(_ hash: inout [UInt32], block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            // Message schedule, §6.2.2 step 1.
            for t in 0..<16 { w[t] = bigEndianWord(block, t) }
            for t in 16..<64 {
                let s0 = rotateRight(w[t &- 15], 7) ^ rotateRight(w[t &- 15], 18) ^ (w[t &- 15] >> 3)
                let s1 = rotateRight(w[t &- 2], 17) ^ rotateRight(w[t &- 2], 19) ^ (w[t &- 2] >> 10)
                w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
            }
            var (a, b, c, d) = (hash[0], hash[1], hash[2], hash[3])
            var (e, f, g, h) = (hash[4], hash[5], hash[6], hash[7])
            roundConstants.withUnsafeBufferPointer { k in
                // §6.2.2 step 3.
                for t in 0..<64 {
                    let sigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
                    let choose = (e & f) ^ (~e & g)
                    let t1 = h &+ sigma1 &+ choose &+ k[t] &+ w[t]
                    let sigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = sigma0 &+ majority
                    (h, g, f, e) = (g, f, e, d &+ t1)
                    (d, c, b, a) = (c, b, a, t1 &+ t2)
                }
            }
            hash[0] = hash[0] &+ a
            hash[1] = hash[1] &+ b
            hash[2] = hash[2] &+ c
            hash[3] = hash[3] &+ d
            hash[4] = hash[4] &+ e
            hash[5] = hash[5] &+ f
            hash[6] = hash[6] &+ g
            hash[7] = hash[7] &+ h
        }
    }
}

/// SHA-1 (FIPS 180-4 §6.1).
package enum SHA1Compression: CompressionFunction {
    /// FIPS 180-4 §5.3.1.
    package static let initialHashValue: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]

    package static func compress(_ hash: inout [UInt32], block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            // Message schedule, §6.1.2 step 1.
            for t in 0..<16 { w[t] = bigEndianWord(block, t) }
            for t in 16..<80 { w[t] = rotateLeft(w[t &- 3] ^ w[t &- 8] ^ w[t &- 14] ^ w[t &- 16], 1) }
            var (a, b, c, d, e) = (hash[0], hash[1], hash[2], hash[3], hash[4])
            // §6.1.2 step 3, with f(t) and K(t) of §4.1.1 and §4.2.1.
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: (f, k) = ((b & c) ^ (~b & d), 0x5a82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ed9_eba1)
                case 40..<60: (f, k) = ((b & c) ^ (b & d) ^ (c & d), 0x8f1b_bcdc)
                default: (f, k) = (b ^ c ^ d, 0xca62_c1d6)
                }
                let temp = rotateLeft(a, 5) &+ f &+ e &+ k &+ w[t]
                (e, d, c, b, a) = (d, c, rotateLeft(b, 30), a, temp)
            }
            hash[0] = hash[0] &+ a
            hash[1] = hash[1] &+ b
            hash[2] = hash[2] &+ c
            hash[3] = hash[3] &+ d
            hash[4] = hash[4] &+ e
        }
    }
}
