import CP11Kit
import PKCS11
import PKCS11Constants

extension Calls {
    static func signInit(_ session: UInt, _ mechanism: UnsafeMutablePointer<CK_MECHANISM>?, _ key: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.signInit(session: session, mechanism: Convert.mechanism(mechanism), key: key)
        }
    }

    static func sign(
        _ session: UInt, _ data: UnsafeMutablePointer<UInt8>?, _ length: UInt,
        _ signature: UnsafeMutablePointer<UInt8>?,
        _ signatureLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            let capacity = try Convert.capacity(signature, signatureLength)
            let result = try connection.sign(session: session, data: Convert.bytes(data, length), capacity: capacity)
            return Convert.output(result, signature, signatureLength)
        }
    }

    static func signUpdate(_ session: UInt, _ part: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            try connection.signUpdate(session: session, part: Convert.bytes(part, length))
        }
    }

    static func signFinal(
        _ session: UInt, _ signature: UnsafeMutablePointer<UInt8>?, _ signatureLength: UnsafeMutablePointer<UInt>?
    ) -> UInt {
        withConnectionResult { (connection) throws(PKCS11Error) in
            let capacity = try Convert.capacity(signature, signatureLength)
            return Convert.output(
                try connection.signFinal(session: session, capacity: capacity), signature, signatureLength)
        }
    }

    static func generateRandom(_ session: UInt, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: UInt) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard buffer != nil || length == 0 else { throw PKCS11Error(.argumentsBad) }
            let random = try connection.generateRandom(session: session, length: Int(clamping: length))
            guard let buffer else { return }
            // The buffer holds `length` bytes: never write more, whatever the layers below returned.
            guard Convert.copy(random, into: buffer, capacity: length) else { throw PKCS11Error(.generalError) }
        }
    }
}
