import ErrorShape
package import PKCS11Constants

/// A failure of the PKCS#11 client: the module could not be loaded, or a call returned a CKR.
/// Equality compares `code` and `rv`: the reason is for people.
package struct PKCS11ClientError: CodedError {
    package enum Code: String, ErrorCode {
        /// dlopen of p11-kit-client.so failed (not installed: package p11-kit-modules).
        case moduleNotLoaded = "module not loaded"
        /// The module has no C_GetFunctionList, or it returned no list.
        case noFunctionList = "no function list"
        /// A call returned something other than CKR_OK (`rv`).
        case callFailed = "call failed"
    }

    package let code: Code
    package let reason: String
    /// The CKR a call returned, if that is what failed.
    package let rv: CKR?

    private init(_ code: Code, _ reason: String, rv: CKR? = nil) {
        self.code = code
        self.reason = reason
        self.rv = rv
    }

    package static func moduleNotLoaded(_ why: String) -> PKCS11ClientError {
        PKCS11ClientError(.moduleNotLoaded, "cannot load p11-kit-client.so: \(why)")
    }

    package static let noFunctionList = PKCS11ClientError(.noFunctionList, "p11-kit-client.so offers no PKCS#11 function list")

    /// `function` returned `rv`.
    package static func call(_ function: String, returned rv: CKR) -> PKCS11ClientError {
        PKCS11ClientError(.callFailed, "\(function) failed: \(rv.symbolicName)", rv: rv)
    }

    package var description: String { reason }

    package static func == (lhs: PKCS11ClientError, rhs: PKCS11ClientError) -> Bool {
        lhs.code == rhs.code && lhs.rv == rhs.rv
    }
}
