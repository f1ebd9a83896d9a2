import SmartCardCore

/// Collects the decoded bytes of GETPIN's `D` lines (a long PIN may span several) in one fixed buffer,
/// then hands them over as a `SecretBytes`. The buffer is zeroed when taken and when the accumulator dies,
/// so a dialog that fails half-way leaves nothing behind.
final class PINAccumulator {
    private var bytes: [UInt8]
    private var count = 0

    init(capacity: Int) {
        bytes = [UInt8](repeating: 0, count: capacity)
    }

    deinit {
        SecretBytes.wipe(&bytes)
    }

    func append(_ byte: UInt8) throws(PinEntryError) {
        guard count < bytes.count else {
            throw PinEntryError(.protocolError, "pinentry returned a PIN longer than \(bytes.count) bytes")
        }
        bytes[count] = byte
        count += 1
    }

    /// The PIN as a secret; this buffer is zeroed and empty afterwards.
    func takeSecret() -> SecretBytes {
        let secret = SecretBytes(count: count) { target in
            for index in 0..<count { target[index] = bytes[index] }
        }
        SecretBytes.wipe(&bytes)
        count = 0
        return secret
    }
}
