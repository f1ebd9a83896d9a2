import Glibc
import PKCS11
import PKCS11Constants

/// The connection served on this thread. CK_FUNCTION_LIST has no context pointer, and p11-kit runs each
/// call synchronously on the thread that called the serve function (p11-kit-rpc.md §3 pitfall 5), so a
/// thread-local names the client.
enum CurrentConnection {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Sets (or clears) this thread's connection. The caller keeps it alive while it is set.
    static func set(_ connection: PKCS11Connection?) {
        pthread_setspecific(key, connection.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    static func get() -> PKCS11Connection? {
        pthread_getspecific(key).map { Unmanaged<PKCS11Connection>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Runs one PKCS#11 call on this thread's connection: a thrown `PKCS11Error` is the CK_RV.
func withConnection(_ body: (PKCS11Connection) throws(PKCS11Error) -> Void) -> UInt {
    guard let connection = CurrentConnection.get() else { return CKR.generalError.rawValue }
    do {
        try body(connection)
        return CKR.ok.rawValue
    } catch {
        return error.code.rawValue
    }
}

/// Like `withConnection`, for calls whose CK_RV is computed (C_GetAttributeValue, output buffers).
func withConnectionResult(_ body: (PKCS11Connection) throws(PKCS11Error) -> CKR) -> UInt {
    guard let connection = CurrentConnection.get() else { return CKR.generalError.rawValue }
    do {
        return try body(connection).rawValue
    } catch {
        return error.code.rawValue
    }
}

func notSupported() -> UInt {
    CurrentConnection.get()?.unsupported().rawValue ?? CKR.generalError.rawValue
}
