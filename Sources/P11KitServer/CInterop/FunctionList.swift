import CP11Kit
import PKCS11
import PKCS11Constants

/// The CK_FUNCTION_LIST (version 2.40) handed to `p11_kit_remote_serve_module`. Every entry is
/// non-NULL (p11-kit calls through them unconditionally), none captures anything: each finds its
/// client through `CurrentConnection`. Defined outside main.swift, so nothing here is main-actor
/// isolated (p11-kit-rpc.md §3 pitfall 1). Allocated once, for the life of the process.
enum FunctionList {
    nonisolated(unsafe) static let pointer: UnsafeMutablePointer<CK_FUNCTION_LIST> = {
        let pointer = UnsafeMutablePointer<CK_FUNCTION_LIST>.allocate(capacity: 1)
        var list = CK_FUNCTION_LIST()
        list.version = CK_VERSION(major: 2, minor: 40)
        implemented(&list)
        unsupportedObjectsAndCiphers(&list)
        unsupportedSignaturesAndKeys(&list)
        pointer.initialize(to: list)
        return pointer
    }()

    private static func implemented(_ list: inout CK_FUNCTION_LIST) {
        list.C_Initialize = { Calls.initialize($0) }
        list.C_Finalize = { Calls.finalize($0) }
        list.C_GetInfo = { Calls.info($0) }
        list.C_GetFunctionList = { target in
            guard let target else { return CKR.argumentsBad.rawValue }
            target.pointee = FunctionList.pointer
            return CKR.ok.rawValue
        }
        list.C_GetSlotList = { Calls.slotList($0, $1, $2) }
        list.C_GetSlotInfo = { Calls.slotInfo($0, $1) }
        list.C_GetTokenInfo = { Calls.tokenInfo($0, $1) }
        list.C_WaitForSlotEvent = { Calls.waitForSlotEvent($0, $1, $2) }
        list.C_GetMechanismList = { Calls.mechanismList($0, $1, $2) }
        list.C_GetMechanismInfo = { Calls.mechanismInfo($0, $1, $2) }
        list.C_InitPIN = { Calls.initPIN($0, $1, $2) }
        list.C_SetPIN = { Calls.setPIN($0, $1, $2, $3, $4) }
        list.C_OpenSession = { slot, flags, _, _, handle in Calls.openSession(slot, flags, handle) }
        list.C_CloseSession = { Calls.closeSession($0) }
        list.C_CloseAllSessions = { Calls.closeAllSessions($0) }
        list.C_GetSessionInfo = { Calls.sessionInfo($0, $1) }
        list.C_Login = { Calls.login($0, $1, $2, $3) }
        list.C_Logout = { Calls.logout($0) }
        list.C_GetAttributeValue = { Calls.attributeValue($0, $1, $2, $3) }
        list.C_FindObjectsInit = { Calls.findObjectsInit($0, $1, $2) }
        list.C_FindObjects = { Calls.findObjects($0, $1, $2, $3) }
        list.C_FindObjectsFinal = { Calls.findObjectsFinal($0) }
        list.C_SignInit = { Calls.signInit($0, $1, $2) }
        list.C_Sign = { Calls.sign($0, $1, $2, $3, $4) }
        list.C_SignUpdate = { Calls.signUpdate($0, $1, $2) }
        list.C_SignFinal = { Calls.signFinal($0, $1, $2) }
        list.C_DecryptInit = { Calls.decryptInit($0, $1, $2) }
        list.C_Decrypt = { Calls.decrypt($0, $1, $2, $3, $4) }
        list.C_GenerateRandom = { Calls.generateRandom($0, $1, $2) }
    }

    /// Cryptolib's "not supported" list (cps3-card.md §12.4), plus what cpsd does not offer yet.
    private static func unsupportedObjectsAndCiphers(_ list: inout CK_FUNCTION_LIST) {
        list.C_InitToken = { _, _, _, _ in notSupported() }
        list.C_GetOperationState = { _, _, _ in notSupported() }
        list.C_SetOperationState = { _, _, _, _, _ in notSupported() }
        list.C_CreateObject = { _, _, _, _ in notSupported() }
        list.C_CopyObject = { _, _, _, _, _ in notSupported() }
        list.C_DestroyObject = { _, _ in notSupported() }
        list.C_GetObjectSize = { _, _, _ in notSupported() }
        list.C_SetAttributeValue = { Calls.setAttributeValue($0, $1, $2, $3) }
        list.C_EncryptInit = { Calls.encryptInit($0, $1, $2) }
        list.C_Encrypt = { Calls.encrypt($0, $1, $2, $3, $4) }
        list.C_EncryptUpdate = { _, _, _, _, _ in notSupported() }
        list.C_EncryptFinal = { _, _, _ in notSupported() }
        list.C_DecryptUpdate = { _, _, _, _, _ in notSupported() }
        list.C_DecryptFinal = { _, _, _ in notSupported() }
        list.C_DigestInit = { Calls.digestInit($0, $1) }
        list.C_Digest = { Calls.digest($0, $1, $2, $3, $4) }
        list.C_DigestUpdate = { Calls.digestUpdate($0, $1, $2) }
        list.C_DigestKey = { _, _ in notSupported() }
        list.C_DigestFinal = { Calls.digestFinal($0, $1, $2) }
    }

    private static func unsupportedSignaturesAndKeys(_ list: inout CK_FUNCTION_LIST) {
        list.C_SignRecoverInit = { _, _, _ in notSupported() }
        list.C_SignRecover = { _, _, _, _, _ in notSupported() }
        list.C_VerifyInit = { Calls.verifyInit($0, $1, $2) }
        list.C_Verify = { Calls.verify($0, $1, $2, $3, $4) }
        list.C_VerifyUpdate = { Calls.verifyUpdate($0, $1, $2) }
        list.C_VerifyFinal = { Calls.verifyFinal($0, $1, $2) }
        list.C_VerifyRecoverInit = { _, _, _ in notSupported() }
        list.C_VerifyRecover = { _, _, _, _, _ in notSupported() }
        list.C_DigestEncryptUpdate = { _, _, _, _, _ in notSupported() }
        list.C_DecryptDigestUpdate = { _, _, _, _, _ in notSupported() }
        list.C_SignEncryptUpdate = { _, _, _, _, _ in notSupported() }
        list.C_DecryptVerifyUpdate = { _, _, _, _, _ in notSupported() }
        list.C_GenerateKey = { _, _, _, _, _ in notSupported() }
        list.C_GenerateKeyPair = { _, _, _, _, _, _, _, _ in notSupported() }
        list.C_WrapKey = { _, _, _, _, _, _ in notSupported() }
        list.C_UnwrapKey = { _, _, _, _, _, _, _, _ in notSupported() }
        list.C_DeriveKey = { _, _, _, _, _, _ in notSupported() }
        list.C_SeedRandom = { _, _, _ in CurrentConnection.get()?.seedRandom().rawValue ?? CKR.generalError.rawValue }
        list.C_GetFunctionStatus = { _ in notSupported() }
        list.C_CancelFunction = { _ in notSupported() }
    }

    /// The declared Cryptoki version, as [major, minor].
    static var version: [UInt8] { [pointer.pointee.version.major, pointer.pointee.version.minor] }

    /// NULL entries (there must be none).
    static var nullEntries: Int {
        withUnsafeBytes(of: pointer.pointee) { raw in
            stride(
                from: MemoryLayout<CK_FUNCTION_LIST>.offset(of: \.C_Initialize) ?? 8, to: raw.count,
                by: MemoryLayout<UInt>.stride
            )
            .filter { raw.load(fromByteOffset: $0, as: UInt.self) == 0 }.count
        }
    }
}

/// Serves one client on the calling thread until EOF or shutdown(2): blocks (p11-kit-rpc.md §1).
enum P11KitServe {
    static func serve(fd: Int32, connection: PKCS11Connection) -> Int32 {
        CurrentConnection.set(connection)
        defer { CurrentConnection.set(nil) }
        return p11_kit_remote_serve_module(FunctionList.pointer, fd, fd)
    }
}
