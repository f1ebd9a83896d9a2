import PKCS11Constants

/// What an encryption is made with: fixed at C_EncryptInit (CKM_RSA_PKCS, the authentication public key).
package struct EncryptContext: Sendable, Hashable {
    package var keyHandle: UInt
    package var key: RSAPublicOperation

    package init(keyHandle: UInt, key: RSAPublicOperation) {
        self.keyHandle = keyHandle
        self.key = key
    }
}

/// C_EncryptInit / C_Encrypt on one session (PKCS#11 2.40 §5.8), single part as Cryptolib
/// (cryptolib-pkcs11.md §8.6): the length is the modulus length; a length query or a too-small buffer keeps
/// the operation (ANS 408 then 409); anything else ends it.
package struct EncryptOperation: Sendable {
    private var context: EncryptContext?

    /// What the connection does next.
    package enum Action: Sendable, Hashable {
        case answer(OutputResult)
        /// Encrypt `data` (the operation has ended).
        case encrypt(EncryptContext, data: [UInt8])
    }

    package init() {}

    package var isActive: Bool { context != nil }

    package mutating func begin(_ context: EncryptContext) throws(PKCS11Error) {
        guard self.context == nil else { throw PKCS11Error(.operationActive) }
        self.context = context
    }

    /// C_Encrypt. `capacity` nil is the NULL-buffer length query.
    package mutating func single(data: [UInt8], capacity: Int?) throws(PKCS11Error) -> Action {
        guard let context else { throw PKCS11Error(.operationNotInitialized) }
        let length = context.key.length
        guard data.count <= length - 11 else {
            self.context = nil
            throw PKCS11Error(.dataLenRange, "CKM_RSA_PKCS encrypts at most k-11 bytes")
        }
        guard let capacity else { return .answer(.length(length)) }
        guard capacity >= length else { return .answer(.bufferTooSmall(length)) }
        self.context = nil
        return .encrypt(context, data: data)
    }

    /// Ends the operation (session closed, logout).
    package mutating func cancel() { context = nil }
}
