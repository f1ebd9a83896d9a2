package import PKCS11Constants

extension CKF {
    /// CKF_OS_LOCKING_OK in CK_C_INITIALIZE_ARGS: only a client calls C_Initialize with it, so the
    /// vocabulary the server shares does not carry it.
    package static let osLockingOK: UInt = 0x2
}
