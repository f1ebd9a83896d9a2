import PKCS11
import SmartCardCore

/// A PIN or PUK handed from a connection thread to a reader actor. `SecretBytes` is `~Copyable` and
/// the caller only lends it, so the card operation takes one copy into this box; the copy is zeroed when the
/// box dies (`SecretBytes.deinit`), right after the operation.
final class SecretHolder: Sendable {
    let secret: SecretBytes

    init(copying source: borrowing SecretBytes) {
        secret = source.withBytes { bytes in
            SecretBytes(count: bytes.count) { target in
                for index in bytes.indices { target[index] = bytes[index] }
            }
        }
    }

    /// No secret: an operation that must not verify anything.
    init() {
        secret = SecretBytes(count: 0) { _ in }
    }

    /// A copy of `source`, or no secret when it is empty (a kept PIN the caller does not have).
    convenience init(copyingOrEmpty source: borrowing SecretBytes) {
        if source.count == 0 { self.init() } else { self.init(copying: source) }
    }
}
