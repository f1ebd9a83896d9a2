import ErrorShape
/// A running SHA computation whose intermediate state can be read and resumed: what a host needs to
/// leave the last hash round to an IAS-ECC card (reference `cps3-card.md` §6.1), and what the virtual
/// card needs to finish it.
///
/// `intermediateState` and `processedBitCount` describe the complete blocks compressed so far;
/// `pendingBytes` holds the tail (0...63 bytes) not yet compressed.
package struct HashState<Function: CompressionFunction>: Sendable, Hashable {
    private var hash: [UInt32]
    /// Bits of the complete 64-byte blocks compressed so far (always a multiple of 512).
    package private(set) var processedBitCount: UInt64
    /// The bytes received after the last complete block.
    package private(set) var pendingBytes: [UInt8]

    /// A fresh computation from H(0).
    package init() {
        hash = Function.initialHashValue
        processedBitCount = 0
        pendingBytes = []
        pendingBytes.reserveCapacity(hashBlockByteCount)
    }

    /// Resumes a computation from an intermediate hash value (H0...Hn big-endian, as `intermediateState`
    /// gives it) after `bitCount` bits of complete blocks.
    package init(resumingFrom state: [UInt8], bitCount: UInt64) throws(PartialHashError) {
        let wordCount = Function.initialHashValue.count
        guard state.count == wordCount * 4 else {
            throw PartialHashError(
                .wrongStateLength, "state of \(state.count) bytes, this function needs \(wordCount * 4)")
        }
        guard bitCount % UInt64(hashBlockByteCount * 8) == 0 else {
            throw PartialHashError(.bitCountNotBlockAligned, "bit count \(bitCount) is not a multiple of 512")
        }
        self.init()
        for index in 0..<wordCount {
            let bytes = state[(index * 4)..<(index * 4 + 4)]
            hash[index] = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        processedBitCount = bitCount
    }

    /// The hash value after the blocks compressed so far, big-endian. Only meaningful to another party
    /// together with `processedBitCount`; `pendingBytes` are not part of it.
    package var intermediateState: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hash.count * 4)
        for word in hash {
            out += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8),
                UInt8(truncatingIfNeeded: word)]
        }
        return out
    }

    /// Adds message bytes; complete blocks are compressed at once, the rest waits in `pendingBytes`.
    package mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    private mutating func update(_ input: UnsafeRawBufferPointer) {
        var offset = 0
        if !pendingBytes.isEmpty {
            let take = min(hashBlockByteCount - pendingBytes.count, input.count)
            pendingBytes.append(contentsOf: input[0..<take])
            offset = take
            guard pendingBytes.count == hashBlockByteCount else { return }
            pendingBytes.withUnsafeBytes { compressBlock($0) }
            pendingBytes.removeAll(keepingCapacity: true)
        }
        while input.count - offset >= hashBlockByteCount {
            compressBlock(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + hashBlockByteCount)]))
            offset += hashBlockByteCount
        }
        pendingBytes.append(contentsOf: input[offset...])
    }

    private mutating func compressBlock(_ block: UnsafeRawBufferPointer) {
        Function.compress(&hash, block: block)
        processedBitCount &+= UInt64(hashBlockByteCount * 8)
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns the digest. The receiver is left untouched.
    package func finalize() -> [UInt8] {
        var copy = self
        let messageBits = processedBitCount &+ UInt64(pendingBytes.count) * 8
        var padding: [UInt8] = [0x80]
        let afterMarker = (pendingBytes.count + 1) % hashBlockByteCount
        let zeroCount = (hashBlockByteCount - 8 - afterMarker + hashBlockByteCount) % hashBlockByteCount
        padding += [UInt8](repeating: 0, count: zeroCount)
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: messageBits >> UInt64(shift)))
        }
        copy.update(padding)
        precondition(copy.pendingBytes.isEmpty, "padding must end on a block boundary")
        return copy.intermediateState
    }
}

package typealias SHA256State = HashState<SHA256Compression>
package typealias SHA1State = HashState<SHA1Compression>

/// A typed failure of PartialHash (STYLE.md rule 3). Equality compares `code` only. The shape of SmartCardCore's
/// `CodedError`, written out: this target depends on nothing, so it cannot adopt the protocol.
package struct PartialHashError: CodedError {
    package enum Code: String, ErrorCode {
        /// A resumed computation must start on a 512-bit block boundary.
        case bitCountNotBlockAligned = "bit count not a multiple of 512"
        /// The intermediate state does not have the function's size (32 bytes SHA-256, 20 bytes SHA-1).
        case wrongStateLength = "wrong intermediate state length"
    }

    package let code: Code
    package let reason: String
    package let file: String
    package let line: Int

    package init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

}
