/// A PIN or PUK in memory: one owner, a short life, zeroed when it dies (STYLE.md rule 10).
///
/// `~Copyable`, so it is never duplicated by accident; no `description`, so it cannot end up in a
/// log line or string interpolation; its bytes are reachable only inside `withUnsafeBytes`-style
/// closures. Its pages are locked in RAM (mlock) where the system allows, so it is not swapped out, and
/// left out of core dumps (MADV_DONTDUMP), counted per page by ``SecretPageLocks`` so that freeing one
/// secret never unlocks a page another still holds.
package struct SecretBytes: ~Copyable, @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<UInt8>

    /// Takes the bytes and zeroes the caller's array afterwards.
    package init(consuming bytes: inout [UInt8]) {
        storage = .allocate(capacity: max(bytes.count, 1))
        storage.initialize(repeating: 0)
        count = bytes.count
        lockInMemory()  // before the bytes arrive, so they are never on a page that may be swapped out
        for index in bytes.indices { storage[index] = bytes[index] }
        Self.wipe(&bytes)
    }

    /// Builds a secret of `count` bytes written by `body` (e.g. read from a terminal or a file descriptor).
    package init(count: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Void) rethrows {
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: 0)
        self.count = count
        lockInMemory()
        try body(UnsafeMutableBufferPointer(rebasing: storage[0..<count]))
    }

    package let count: Int

    deinit {
        for index in storage.indices { storage[index] = 0 }
        withExtendedLifetime(storage) {}
        if let base = storage.baseAddress { SecretPageLocks.shared.release(base, count: storage.count) }
        storage.deallocate()
    }

    /// Lends the bytes for the duration of `body`.
    package func withBytes<R: ~Copyable>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(rebasing: storage[0..<count]))
    }

    /// Zeroes the bytes now, before the secret's end of life (an idle timeout); the owner must stop using it.
    package func zeroize() {
        for index in storage.indices { storage[index] = 0 }
    }

    /// True when every byte is an ASCII digit: PINs and PUKs are checked before any card sees them.
    package var isAllDigits: Bool { withBytes { $0.allSatisfy { (0x30...0x39).contains($0) } } }

    /// Constant-time comparison (a simulator compares PINs with it).
    package func constantTimeEquals(_ other: some Collection<UInt8>) -> Bool {
        withBytes { mine in
            guard mine.count == other.count else { return false }
            var difference: UInt8 = 0
            for (a, b) in zip(mine, other) { difference |= a ^ b }
            return difference == 0
        }
    }

    /// Zeroes an array in place (for copies the caller had to make, e.g. an APDU buffer).
    package static func wipe(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }

    private func lockInMemory() {
        if let base = storage.baseAddress { SecretPageLocks.shared.retain(base, count: storage.count) }
    }
}

extension SecretBytes {
    /// A new secret holding the first `count` bytes; this one is zeroed when it is released.
    package consuming func prefix(_ count: Int) -> SecretBytes {
        let length = min(count, self.count)
        return withBytes { source in
            SecretBytes(count: length) { target in
                for index in 0..<length { target[index] = source[index] }
            }
        }
    }
}
