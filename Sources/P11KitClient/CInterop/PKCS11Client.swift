import CP11Kit
import Glibc
package import PKCS11Constants
package import SmartCardCore

/// A PKCS#11 application on top of p11-kit-client.so: the module is dlopened after
/// P11_KIT_SERVER_ADDRESS is set for it, so its calls reach the cpsd at that address over p11-kit's RPC.
/// One instance per process (the variable and C_Initialize are process-wide); not thread-safe.
package final class PKCS11Client {
    package static let modulePaths = [
        "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so", "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
        "/usr/lib64/pkcs11/p11-kit-client.so", "/usr/lib/pkcs11/p11-kit-client.so",
    ]

    private let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private var initialized = false

    /// Loads the module for `serverAddress` (`unix:path=…`) and calls C_Initialize with CKF_OS_LOCKING_OK.
    package init(serverAddress: String, modulePaths: [String] = PKCS11Client.modulePaths) throws(PKCS11ClientError) {
        setenv("P11_KIT_SERVER_ADDRESS", serverAddress, 1)
        var handle: UnsafeMutableRawPointer?
        var reason = "not installed (package p11-kit-modules)"
        for path in modulePaths where access(path, R_OK) == 0 {
            handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
        }
        // The module stays loaded until exit: p11-kit modules are not meant to be unloaded mid-process.
        guard let handle else { throw PKCS11ClientError.moduleNotLoaded(reason) }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else { throw PKCS11ClientError.noFunctionList }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        try Self.check("C_GetFunctionList", getFunctionList(&list))
        guard let list else { throw PKCS11ClientError.noFunctionList }
        functions = list
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CKF.osLockingOK
        try Self.check("C_Initialize", functions.pointee.C_Initialize?(&arguments))
        initialized = true
    }

    deinit { finalize() }

    /// C_Finalize (once; later calls do nothing).
    package func finalize() {
        guard initialized else { return }
        initialized = false
        _ = functions.pointee.C_Finalize?(nil)
    }

    // MARK: - Slots and tokens

    /// C_GetSlotList.
    package func slots(tokenPresent: Bool) throws(PKCS11ClientError) -> [UInt] {
        let present: CK_BBOOL = tokenPresent ? 1 : 0
        var count: UInt = 0
        try Self.check("C_GetSlotList", functions.pointee.C_GetSlotList?(present, nil, &count))
        var slots = [UInt](repeating: 0, count: Int(count))
        let rv = slots.withUnsafeMutableBufferPointer { functions.pointee.C_GetSlotList?(present, $0.baseAddress, &count) }
        try Self.check("C_GetSlotList", rv)
        return Array(slots.prefix(Int(count)))
    }

    /// C_GetSlotInfo's description: the reader's name (cut at 64 bytes).
    package func slotDescription(_ slot: UInt) throws(PKCS11ClientError) -> String {
        var info = CK_SLOT_INFO()
        try Self.check("C_GetSlotInfo", functions.pointee.C_GetSlotInfo?(slot, &info))
        return Self.text(info.slotDescription)
    }

    /// C_GetTokenInfo.
    package func tokenInfo(_ slot: UInt) throws(PKCS11ClientError) -> PKCS11TokenInfo {
        var info = CK_TOKEN_INFO()
        try Self.check("C_GetTokenInfo", functions.pointee.C_GetTokenInfo?(slot, &info))
        return PKCS11TokenInfo(label: Self.text(info.label), serialNumber: Self.text(info.serialNumber), flags: info.flags)
    }

    // MARK: - Sessions and login

    /// C_OpenSession (serial; read-write when asked, as C_SetPIN and C_InitPIN need).
    package func openSession(_ slot: UInt, readWrite: Bool) throws(PKCS11ClientError) -> UInt {
        var session: UInt = 0
        let flags = CKF.serialSession | (readWrite ? CKF.rwSession : 0)
        try Self.check("C_OpenSession", functions.pointee.C_OpenSession?(slot, flags, nil, nil, &session))
        return session
    }

    /// C_CloseSession (errors ignored: the session is gone either way).
    package func closeSession(_ session: UInt) { _ = functions.pointee.C_CloseSession?(session) }

    /// C_Login with a PIN (user) or PUK (security officer), lent from zeroed-on-release storage.
    package func login(_ session: UInt, as user: CKU, pin: borrowing SecretBytes) throws(PKCS11ClientError) {
        let rv = pin.withBytes { bytes in
            functions.pointee.C_Login?(session, user.rawValue, UnsafeMutablePointer(mutating: bytes.baseAddress), UInt(bytes.count))
        }
        try Self.check("C_Login", rv)
    }

    /// C_Logout (errors ignored: closing the last session logs out anyway).
    package func logout(_ session: UInt) { _ = functions.pointee.C_Logout?(session) }

    /// C_SetPIN in a read-write session: changes the user PIN.
    package func setPIN(_ session: UInt, old: borrowing SecretBytes, new: borrowing SecretBytes) throws(PKCS11ClientError) {
        let rv = old.withBytes { oldBytes in
            new.withBytes { newBytes in
                functions.pointee.C_SetPIN?(
                    session, UnsafeMutablePointer(mutating: oldBytes.baseAddress), UInt(oldBytes.count),
                    UnsafeMutablePointer(mutating: newBytes.baseAddress), UInt(newBytes.count))
            }
        }
        try Self.check("C_SetPIN", rv)
    }

    /// C_InitPIN after a security-officer login: sets (and so unblocks) the user PIN.
    package func initPIN(_ session: UInt, pin: borrowing SecretBytes) throws(PKCS11ClientError) {
        let rv = pin.withBytes { bytes in
            functions.pointee.C_InitPIN?(session, UnsafeMutablePointer(mutating: bytes.baseAddress), UInt(bytes.count))
        }
        try Self.check("C_InitPIN", rv)
    }

    // MARK: - Objects and signatures

    /// C_FindObjectsInit / C_FindObjects / C_FindObjectsFinal with a template of (type, value bytes).
    package func findObjects(_ session: UInt, matching template: [(type: CKA, value: [UInt8])]) throws(PKCS11ClientError)
        -> [UInt]
    {
        let buffers = template.map { entry in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(entry.value.count, 1), alignment: 8)
            buffer.copyBytes(from: entry.value)
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        var attributes = zip(template, buffers).map { entry, buffer in
            CK_ATTRIBUTE(type: entry.type.rawValue, pValue: buffer.baseAddress, ulValueLen: UInt(entry.value.count))
        }
        let rv = attributes.withUnsafeMutableBufferPointer {
            functions.pointee.C_FindObjectsInit?(session, $0.baseAddress, UInt($0.count))
        }
        try Self.check("C_FindObjectsInit", rv)
        defer { _ = functions.pointee.C_FindObjectsFinal?(session) }
        var found: [UInt] = []
        var batch = [UInt](repeating: 0, count: 16)
        while true {
            var count: UInt = 0
            let rv = batch.withUnsafeMutableBufferPointer {
                functions.pointee.C_FindObjects?(session, $0.baseAddress, UInt($0.count), &count)
            }
            try Self.check("C_FindObjects", rv)
            guard count > 0 else { return found }
            found += batch.prefix(Int(count))
        }
    }

    /// C_GetAttributeValue for one attribute: nil when the object has none or hides it.
    package func attribute(_ session: UInt, object: UInt, type: CKA) throws(PKCS11ClientError) -> [UInt8]? {
        var attribute = CK_ATTRIBUTE(type: type.rawValue, pValue: nil, ulValueLen: 0)
        let sizeRV = functions.pointee.C_GetAttributeValue?(session, object, &attribute, 1)
        if sizeRV == CKR.attributeSensitive.rawValue || sizeRV == CKR.attributeTypeInvalid.rawValue { return nil }
        try Self.check("C_GetAttributeValue", sizeRV)
        guard attribute.ulValueLen != UInt.max else { return nil }
        guard attribute.ulValueLen > 0 else { return [] }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        let rv = value.withUnsafeMutableBytes { raw in
            attribute.pValue = raw.baseAddress
            return functions.pointee.C_GetAttributeValue?(session, object, &attribute, 1)
        }
        try Self.check("C_GetAttributeValue", rv)
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// C_SignInit then C_Sign (single part) with a parameterless mechanism.
    package func sign(_ session: UInt, mechanism: CKM, key: UInt, data: [UInt8]) throws(PKCS11ClientError) -> [UInt8] {
        var mechanismInfo = CK_MECHANISM(mechanism: mechanism.rawValue, pParameter: nil, ulParameterLen: 0)
        try Self.check("C_SignInit", functions.pointee.C_SignInit?(session, &mechanismInfo, key))
        var input = data
        var output = [UInt8](repeating: 0, count: 1024)
        var length = UInt(output.count)
        let rv = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                functions.pointee.C_Sign?(
                    session, inputBuffer.baseAddress, UInt(inputBuffer.count), outputBuffer.baseAddress, &length)
            }
        }
        try Self.check("C_Sign", rv)
        return Array(output.prefix(Int(length)))
    }

    // MARK: - Helpers

    /// CKR_OK or a typed error; a missing entry point is CKR_FUNCTION_NOT_SUPPORTED.
    private static func check(_ function: String, _ rv: CK_RV?) throws(PKCS11ClientError) {
        let rv = CKR(rawValue: rv ?? CKR.functionNotSupported.rawValue)
        guard rv == .ok else { throw PKCS11ClientError.call(function, returned: rv) }
    }

    /// A blank-padded CK character field as text.
    private static func text<Field>(_ field: Field) -> String {
        withUnsafeBytes(of: field) { raw in
            var bytes = Array(raw)
            while let last = bytes.last, last == 0x20 || last == 0 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
