import CP11Kit
import PKCS11
import PKCS11Constants

/// C glue of what Cryptolib does in software: digests, verification, encryption (cryptolib-pkcs11.md §8.6–8.7).
/// NULL input pointers are CKR_ARGUMENTS_BAD here, before the operation is touched, so it goes on
/// (ANS 407 then 408, 711 then 712, 721 then 722, 727 then 728).
extension Calls {
    static func digestInit(_ session: UInt, _ mechanism: UnsafeMutablePointer<CK_MECHANISM>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.digestInit(session: session, mechanism: Convert.mechanism(mechanism))
        }
    }

    static func digest(
        _ session: UInt, _ data: UnsafeMutablePointer<UInt8>?, _ length: UInt,
        _ digest: UnsafeMutablePointer<UInt8>?, _ digestLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            let capacity = try Convert.capacity(digest, digestLength)
            let result = try connection.digest(session: session, data: Convert.bytes(data, length), capacity: capacity)
            return Convert.output(result, digest, digestLength)
        }
    }

    static func digestUpdate(_ session: UInt, _ part: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.digestUpdate(session: session, part: Convert.bytes(part, length))
        }
    }

    static func digestFinal(
        _ session: UInt, _ digest: UnsafeMutablePointer<UInt8>?, _ digestLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            let capacity = try Convert.capacity(digest, digestLength)
            return Convert.output(try connection.digestFinal(session: session, capacity: capacity), digest, digestLength)
        }
    }

    static func verifyInit(_ session: UInt, _ mechanism: UnsafeMutablePointer<CK_MECHANISM>?, _ key: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.verifyInit(session: session, mechanism: Convert.mechanism(mechanism), key: key)
        }
    }

    static func verify(
        _ session: UInt, _ data: UnsafeMutablePointer<UInt8>?, _ length: UInt,
        _ signature: UnsafeMutablePointer<UInt8>?, _ signatureLength: UInt
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard data != nil, signature != nil else { throw PKCS11Error(.argumentsBad) }
            try connection.verify(
                session: session, data: Convert.bytes(data, length),
                signature: Convert.bytes(signature, signatureLength))
        }
    }

    static func verifyUpdate(_ session: UInt, _ part: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard part != nil else { throw PKCS11Error(.argumentsBad) }
            try connection.verifyUpdate(session: session, part: Convert.bytes(part, length))
        }
    }

    static func verifyFinal(_ session: UInt, _ signature: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard signature != nil else { throw PKCS11Error(.argumentsBad) }
            try connection.verifyFinal(session: session, signature: Convert.bytes(signature, length))
        }
    }

    static func encryptInit(_ session: UInt, _ mechanism: UnsafeMutablePointer<CK_MECHANISM>?, _ key: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.encryptInit(session: session, mechanism: Convert.mechanism(mechanism), key: key)
        }
    }

    static func encrypt(
        _ session: UInt, _ data: UnsafeMutablePointer<UInt8>?, _ length: UInt,
        _ cryptogram: UnsafeMutablePointer<UInt8>?, _ cryptogramLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            guard data != nil else { throw PKCS11Error(.argumentsBad) }
            let capacity = try Convert.capacity(cryptogram, cryptogramLength)
            let result = try connection.encrypt(session: session, data: Convert.bytes(data, length), capacity: capacity)
            return Convert.output(result, cryptogram, cryptogramLength)
        }
    }
}
