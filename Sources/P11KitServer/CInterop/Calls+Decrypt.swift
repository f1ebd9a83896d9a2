import CP11Kit
import PKCS11

extension Calls {
    static func decryptInit(_ session: UInt, _ mechanism: UnsafeMutablePointer<CK_MECHANISM>?, _ key: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.decryptInit(session: session, mechanism: Convert.mechanism(mechanism), key: key)
        }
    }

    static func decrypt(
        _ session: UInt, _ cryptogram: UnsafeMutablePointer<UInt8>?, _ length: UInt,
        _ plaintext: UnsafeMutablePointer<UInt8>?, _ plaintextLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            let capacity = try Convert.capacity(plaintext, plaintextLength)
            // pEncryptedData NULL with a length is CKR_ARGUMENTS_BAD (ANS 509), from Convert.bytes.
            let input = try Convert.bytes(cryptogram, length)
            var result = try connection.decrypt(session: session, cryptogram: input, capacity: capacity)
            defer { Convert.wipe(&result) }
            return Convert.output(result, plaintext, plaintextLength)
        }
    }
}
