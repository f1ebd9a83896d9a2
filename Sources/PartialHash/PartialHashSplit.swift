/// A message cut for the IAS-ECC partial hash (reference `cps3-card.md` §6.1): the host compresses the
/// leading complete blocks and the card hashes `tail` after resuming from `state`.
package struct PartialHashSplit: Sendable, Hashable {
    /// The intermediate hash value after `bitCount` bits, or nil when nothing was hashed on the host
    /// (PSO HASH then carries `90 00`).
    package var state: [UInt8]?
    /// Bits hashed on the host, a multiple of 512.
    package var bitCount: UInt64
    /// The bytes left for the card: 1...64 bytes, or none for an empty message.
    package var tail: [UInt8]

    package init(state: [UInt8]?, bitCount: UInt64, tail: [UInt8]) {
        self.state = state
        self.bitCount = bitCount
        self.tail = tail
    }
}

extension HashState {
    /// Splits `message` the way Cryptolib does (§6.1 step 1): every complete 64-byte block is hashed
    /// except that 1...64 bytes are kept as the tail. A length that is a non-zero multiple of 64 keeps a
    /// full block; an empty message keeps an empty tail and no state.
    package static func cryptolibSplit(_ message: [UInt8]) -> PartialHashSplit {
        guard !message.isEmpty else { return PartialHashSplit(state: nil, bitCount: 0, tail: []) }
        let tailCount = (message.count - 1) % hashBlockByteCount + 1
        let headCount = message.count - tailCount
        guard headCount > 0 else { return PartialHashSplit(state: nil, bitCount: 0, tail: message) }
        var running = HashState()
        running.update(message[0..<headCount])
        return PartialHashSplit(
            state: running.intermediateState, bitCount: running.processedBitCount,
            tail: Array(message[headCount...]))
    }
}
