import CP11Kit
import PKCS11
import PKCS11Constants

/// The implemented CK_FUNCTION_LIST entries: convert the arguments, call this thread's
/// `PKCS11Connection`, convert the answer. PKCS#11 semantics live in the connection, not here.
enum Calls {
    static func initialize(_ arguments: UnsafeMutableRawPointer?) -> UInt {
        // p11-kit's server always passes CKF_OS_LOCKING_OK (p11-kit-rpc.md §1); calls are serial anyway.
        withConnection { (connection) throws(PKCS11Error) in try connection.initialize() }
    }

    static func finalize(_ reserved: UnsafeMutableRawPointer?) -> UInt {
        guard reserved == nil else { return CKR.argumentsBad.rawValue }
        return withConnection { (connection) throws(PKCS11Error) in try connection.finalize() }
    }

    static func info(_ pointer: UnsafeMutablePointer<CK_INFO>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let pointer else { throw PKCS11Error(.argumentsBad) }
            let info = try connection.info()
            var out = CK_INFO()
            out.cryptokiVersion = Convert.version(info.cryptokiVersion)
            Convert.blankPadded(&out.manufacturerID, info.manufacturerID)
            out.flags = info.flags
            Convert.blankPadded(&out.libraryDescription, info.libraryDescription)
            out.libraryVersion = Convert.version(info.libraryVersion)
            pointer.pointee = out
        }
    }

    static func slotList(_ present: UInt8, _ list: UnsafeMutablePointer<UInt>?, _ count: UnsafeMutablePointer<UInt>?)
        -> UInt
    {
        withConnectionResult { (connection) throws(PKCS11Error) in
            Convert.list(try connection.slotList(tokenPresent: present != 0), list, count)
        }
    }

    static func slotInfo(_ slot: UInt, _ pointer: UnsafeMutablePointer<CK_SLOT_INFO>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let pointer else { throw PKCS11Error(.argumentsBad) }
            let info = try connection.slotInfo(slot)
            var out = CK_SLOT_INFO()
            Convert.blankPadded(&out.slotDescription, info.slotDescription)
            Convert.blankPadded(&out.manufacturerID, info.manufacturerID)
            out.flags = info.flags
            out.hardwareVersion = Convert.version((0, 0))
            out.firmwareVersion = Convert.version((0, 0))
            pointer.pointee = out
        }
    }

    static func tokenInfo(_ slot: UInt, _ pointer: UnsafeMutablePointer<CK_TOKEN_INFO>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let pointer else { throw PKCS11Error(.argumentsBad) }
            let info = try connection.tokenInfo(slot)
            var out = CK_TOKEN_INFO()
            Convert.blankPadded(&out.label, info.label)
            Convert.blankPadded(&out.manufacturerID, info.manufacturerID)
            Convert.blankPadded(&out.model, info.model)
            Convert.blankPadded(&out.serialNumber, info.serialNumber)
            out.flags = info.flags
            out.ulMaxSessionCount = info.maxSessionCount
            out.ulSessionCount = info.sessionCount
            out.ulMaxRwSessionCount = info.maxRWSessionCount
            out.ulRwSessionCount = info.rwSessionCount
            out.ulMaxPinLen = info.maxPINLength
            out.ulMinPinLen = info.minPINLength
            out.ulTotalPublicMemory = info.totalPublicMemory
            out.ulFreePublicMemory = info.freePublicMemory
            out.ulTotalPrivateMemory = info.totalPrivateMemory
            out.ulFreePrivateMemory = info.freePrivateMemory
            out.hardwareVersion = Convert.version((0, 0))
            out.firmwareVersion = Convert.version((0, 0))
            Convert.blankPadded(&out.utcTime, "")
            pointer.pointee = out
        }
    }

    static func waitForSlotEvent(
        _ flags: UInt, _ slot: UnsafeMutablePointer<UInt>?, _ reserved: UnsafeMutableRawPointer?
    ) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let slot else { throw PKCS11Error(.argumentsBad) }
            slot.pointee = try connection.waitForSlotEvent(flags: flags)
        }
    }

    static func mechanismList(_ slot: UInt, _ list: UnsafeMutablePointer<UInt>?, _ count: UnsafeMutablePointer<UInt>?)
        -> UInt
    {
        withConnectionResult { (connection) throws(PKCS11Error) in
            Convert.list(try connection.mechanismList(slot).map(\.rawValue), list, count)
        }
    }

    static func mechanismInfo(_ slot: UInt, _ type: UInt, _ pointer: UnsafeMutablePointer<CK_MECHANISM_INFO>?) -> UInt {
        withConnection { (connection) throws(PKCS11Error) in
            guard let pointer else { throw PKCS11Error(.argumentsBad) }
            let info = try connection.mechanismInfo(slot, CKM(rawValue: type))
            pointer.pointee = CK_MECHANISM_INFO(
                ulMinKeySize: info.minKeySize, ulMaxKeySize: info.maxKeySize, flags: info.flags)
        }
    }
}
