/// A token as C_GetTokenInfo describes it (blank padding removed).
package struct PKCS11TokenInfo: Equatable, Sendable {
    package var label: String
    package var serialNumber: String
    package var flags: UInt

    package init(label: String, serialNumber: String, flags: UInt) {
        self.label = label
        self.serialNumber = serialNumber
        self.flags = flags
    }
}
