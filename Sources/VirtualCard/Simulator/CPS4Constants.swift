import SmartCardCore

/// Named values of the virtual CPS4 (NXP ChipDoc), from reference `cps4-card.md` §1-§8.
///
/// The CPS4 file map is not public (§4 [?]): every FID below marked OUR CHOICE is ours, kept here and nowhere
/// else. Middlewares never hard-code it: Cryptolib follows EF.DIR → ODF → xDFs. The PIN and PUK references are
/// not public either (§6.1 [?]): OUR CHOICE too, written in the AODF the middleware reads them from.
enum CPS4 {
    // MARK: - Applications and channels (§3)

    /// The ChipDoc applet, selected on logical channel 1 without MANAGE CHANNEL.
    static let chipDocAID: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
    /// The CPS2ter application, on channel 0 (the card's default application there).
    static let cps2terAID: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x02]
    /// The GlobalPlatform issuer security domain ("IDS" in Cryptolib): selectable, nothing else.
    static let issuerSecurityDomainAID: [UInt8] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00]
    /// The only channel besides the basic one the card offers (§3: CLA 01, chained 11).
    static let chipDocChannel: UInt8 = 1
    static let logicalChannelNotSupported = StatusWord(rawValue: 0x6881)

    // MARK: - File map (§4) — OUR CHOICE except EF.DIR, EF.SN (known) and ODF/TokenInfo (PKCS#15 defaults)

    static let efDIR: UInt16 = 0x2F00
    static let efSNICC: UInt16 = 0xD003
    /// The PKCS#15 application DF, named in EF.DIR. OUR CHOICE: 0001 as on CPS3, so that Cryptolib's built-in
    /// `no_cache_file_list = 0001D107` keeps applying to CPS_DATA (cryptolib-pkcs11.md §8).
    static let pkcs15Application: UInt16 = 0x0001
    static let efODF: UInt16 = 0x5031
    static let efTokenInfo: UInt16 = 0x5032
    /// OUR CHOICE: the xDFs and certificates.
    static let efAODF: UInt16 = 0x4401
    static let efPrKDF: UInt16 = 0x4402
    static let efCDF: UInt16 = 0x4403
    static let efDODF: UInt16 = 0x4404
    static let efAuthenticationCertificate: UInt16 = 0x4411
    static let efSignatureCertificate: UInt16 = 0x4412
    /// OUR CHOICE: the CPS2TER_* objects, physically in the PKCS#15 application on CPS4 (§1, cryptolib-pkcs11.md §6).
    static let efCPS2terActivity: UInt16 = 0xD130
    static let efCPS2terBilling: UInt16 = 0xD131

    // MARK: - Credentials (§6) — references OUR CHOICE

    /// Application-specific references (bit 8 set), so that Cryptolib's `ref|80` of RESET RETRY COUNTER
    /// (§6.3) names the same credential as VERIFY.
    static let pinReference: UInt8 = 0x81
    static let pukReference: UInt8 = 0x82
    static let pinLength = 4
    static let pukLength = 8

    // MARK: - Keys and algorithms (§5, §7.1)

    static let signatureKeyReference: UInt8 = 0x10
    static let authenticationKeyReference: UInt8 = 0x20
    static let signatureKeyID: [UInt8] = CPS3.iasAID + [0x10]
    static let authenticationKeyID: [UInt8] = CPS3.iasAID + [0x20]
    /// MSE tag 91 algorithm identifiers (§7.1).
    enum SignatureAlgorithm: UInt8 {
        case sha1PKCS1 = 0x0A
        case sha256PKCS1 = 0x28
        case sha1PSS = 0x15
        case sha256PSS = 0x2C

        var hash: SecurityEnvironment.HashAlgorithm { self == .sha1PKCS1 || self == .sha1PSS ? .sha1 : .sha256 }
        var isPSS: Bool { self == .sha1PSS || self == .sha256PSS }
    }

    static let modulusLength = 256
    /// READ BINARY gives up to 256 bytes (Le 00, §1).
    static let readBinaryMaxLength = 256

    // MARK: - Instructions beyond CPS3's

    /// CLA bit 5: command chaining (ISO/IEC 7816-4 §5.1.1).
    static let chainingBit: UInt8 = 0x10
}
