import P11KitClient
import PKCS11Constants
import Testing

/// What cpsctl prints for a failed PKCS#11 call: the function, the CKR's name and its value.
@Suite("P11KitClient: errors and CKR names")
struct PKCS11ClientErrorTests {
    @Test("a named CKR prints its name and hex value; an unnamed one its value only")
    func symbolicNames() {
        #expect(CKR.pinIncorrect.symbolicName == "CKR_PIN_INCORRECT (0xA0)")
        #expect(CKR.ok.symbolicName == "CKR_OK (0x0)")
        #expect(CKR.functionNotSupported.symbolicName == "CKR_FUNCTION_NOT_SUPPORTED (0x54)")
        #expect(CKR(rawValue: 0x1234).symbolicName == "CKR 0x1234")
    }

    @Test("a failed call names the function and the CKR, and keeps the CKR for advice")
    func callFailed() {
        let error = PKCS11ClientError.call("C_Login", returned: .pinLocked)
        #expect(error.description == "C_Login failed: CKR_PIN_LOCKED (0xA4)")
        #expect(error.code == .callFailed)
        #expect(error.rv == .pinLocked)
        #expect(error == PKCS11ClientError.call("C_Sign", returned: .pinLocked))
        #expect(error != PKCS11ClientError.call("C_Login", returned: .pinIncorrect))
    }

    @Test("a module that cannot be loaded says why, and carries no CKR")
    func moduleNotLoaded() {
        let error = PKCS11ClientError.moduleNotLoaded("not installed (package p11-kit-modules)")
        #expect(error.description == "cannot load p11-kit-client.so: not installed (package p11-kit-modules)")
        #expect(error.rv == nil)
        #expect(PKCS11ClientError.noFunctionList.description == "p11-kit-client.so offers no PKCS#11 function list")
    }
}
