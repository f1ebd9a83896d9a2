import PKCS11Constants
package import SmartCardCore

/// What a decryption is made with: fixed at C_DecryptInit.
package struct DecryptContext: Sendable, Hashable {
    package var keyHandle: UInt
    package var keyLabel: String
    package var role: KeyRole
    package var mechanism: DecryptionMechanism
    /// The modulus length in bytes: every cryptogram's length, and the longest plaintext.
    package var modulusLength: Int

    package init(keyHandle: UInt, keyLabel: String, role: KeyRole, mechanism: DecryptionMechanism, modulusLength: Int) {
        self.keyHandle = keyHandle
        self.keyLabel = keyLabel
        self.role = role
        self.mechanism = mechanism
        self.modulusLength = modulusLength
    }
}

/// C_DecryptInit / C_Decrypt on one session (PKCS#11 2.40 §5.9), single part. A length query or a too-small
/// buffer keeps the operation; anything else ends it. The card is asked once per cryptogram: a plaintext that
/// did not fit is kept here until the caller asks again with a big enough buffer (a second decryption would
/// cost another card operation and, for a kept PIN, another VERIFY), and zeroed when it is handed over or dropped.
package struct DecryptOperation: Sendable {
    private enum State: Sendable {
        case idle
        case initialized(DecryptContext)
        /// Decrypted, but the caller's buffer was too small for `plaintext`.
        case decrypted(DecryptContext, cryptogram: [UInt8], plaintext: KeptPlaintext)
    }

    /// What the connection does next.
    package enum Action: Sendable, Hashable {
        /// Answer without the card (length query, buffer too small, or the kept plaintext).
        case answer(OutputResult)
        /// Ask the card to decrypt; then hand the plaintext to `deliver`. The operation has ended unless
        /// `deliver` keeps it.
        case decrypt(DecryptContext, cryptogram: [UInt8])
    }

    private var state = State.idle

    package init() {}

    package var isActive: Bool { if case .idle = state { false } else { true } }

    package mutating func begin(_ context: DecryptContext) throws(PKCS11Error) {
        guard case .idle = state else { throw PKCS11Error(.operationActive) }
        state = .initialized(context)
    }

    /// C_Decrypt. `capacity` nil is the NULL-buffer length query.
    package mutating func single(cryptogram: [UInt8], capacity: Int?) throws(PKCS11Error) -> Action {
        let context: DecryptContext
        switch state {
        case .idle: throw PKCS11Error(.operationNotInitialized)
        case .initialized(let current): context = current
        case .decrypted(let current, let kept, let plaintext):
            if kept == cryptogram {
                return answer(context: current, cryptogram: kept, plaintext: plaintext.bytes, capacity)
            }
            // Another cryptogram: the kept answer is not for it (dropping it zeroes it).
            state = .initialized(current)
            context = current
        }
        guard cryptogram.count == context.modulusLength else {
            state = .idle
            throw PKCS11Error(
                .encryptedDataLenRange, "a cryptogram is \(context.modulusLength) bytes, not \(cryptogram.count)")
        }
        // The modulus length bounds every plaintext (PKCS#11 allows a length query to answer more than needed).
        guard capacity != nil else { return .answer(.length(context.modulusLength)) }
        state = .idle
        return .decrypt(context, cryptogram: cryptogram)
    }

    /// The card's plaintext for the `.decrypt` action: handed over if it fits, else kept for the next call.
    package mutating func deliver(
        _ plaintext: [UInt8], context: DecryptContext, cryptogram: [UInt8], capacity: Int
    ) -> OutputResult {
        answer(context: context, cryptogram: cryptogram, plaintext: plaintext, capacity).result
    }

    /// Ends the operation (session closed, logout), zeroing a kept plaintext.
    package mutating func cancel() { state = .idle }

    private mutating func answer(
        context: DecryptContext, cryptogram: [UInt8], plaintext: [UInt8], _ capacity: Int?
    ) -> Action {
        guard let capacity, capacity >= plaintext.count else {
            state = .decrypted(context, cryptogram: cryptogram, plaintext: KeptPlaintext(plaintext))
            return .answer(capacity == nil ? .length(plaintext.count) : .bufferTooSmall(plaintext.count))
        }
        cancel()
        return .answer(.value(plaintext))
    }

}

/// A plaintext waiting for a big enough buffer; its storage is zeroed when the operation drops it (best
/// effort: copies handed to the caller are the C layer's to wipe).
final class KeptPlaintext: @unchecked Sendable {
    private(set) var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    deinit { SecretBytes.wipe(&bytes) }
}

extension DecryptOperation.Action {
    /// The answer of an `.answer` action (`deliver` never asks for the card again).
    var result: OutputResult {
        switch self {
        case .answer(let result): result
        case .decrypt(let context, _): .bufferTooSmall(context.modulusLength)
        }
    }
}
