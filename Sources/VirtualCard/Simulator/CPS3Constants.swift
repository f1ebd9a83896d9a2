import SmartCardCore

/// Named values of the CPS3 contact card: file identifiers, AIDs, references and instruction bytes
/// (reference `cps3-card.md` §3-§7). The simulator is written from these, never from driver code.
enum CPS3 {
    // MARK: - Files (§3.2, §4)

    static let masterFile: UInt16 = 0x3F00
    static let efATR: UInt16 = 0x2F01
    static let efDIR: UInt16 = 0x2F00
    static let efSNICC: UInt16 = 0xD003
    /// The IAS contact application DF (§3.2).
    static let iasApplication: UInt16 = 0x0001
    static let efODF: UInt16 = 0x5031
    static let efTokenInfo: UInt16 = 0x5032
    /// AODF, CDF: [C] §3.2, #2224. PrKDF and certificate EFs: [?] §4.3 — our choice, read through the ODF/CDF.
    static let efAODF: UInt16 = 0x7001
    static let efPrKDF: UInt16 = 0x7002
    static let efCDF: UInt16 = 0x7005
    static let efAuthenticationCertificate: UInt16 = 0x7011
    static let efSignatureCertificate: UInt16 = 0x7012

    /// Short EF identifiers (§3.2: EF.ATR 1D, EF.DIR 1E, EF.SN.ICC 1C).
    static let sfiATR: UInt8 = 0x1D
    static let sfiDIR: UInt8 = 0x1E
    static let sfiSNICC: UInt8 = 0x1C

    // MARK: - AIDs (§3.1)

    /// The card's root AID (EF.ATR tag 4F, cps4-card.md §14.1): selecting it by name selects the MF, which is
    /// how OpenSC and Cryptolib's 6E00/6A86 recovery get back to IAS (§11.3, §11.4).
    static let rootAID: [UInt8] = [0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00]
    /// "CPx IAS", the PKCS#15 contact application.
    static let iasAID: [UInt8] = [0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10]
    static let iasLabel = "CPx IAS"

    // MARK: - Credentials (§4.4, §7)

    static let pinReference: UInt8 = 0x01
    /// [I] §4.4: the PUK reference is unknown, likely 02.
    static let pukReference: UInt8 = 0x02

    // MARK: - Keys and algorithms (§4.1, §4.2)

    static let signatureKeyReference: UInt8 = 0x81
    static let authenticationKeyReference: UInt8 = 0x82
    static let algorithmSHA1: UInt8 = 0x10
    static let algorithmSHA256: UInt8 = 0x40
    static let algorithmSHA1WithRSA: UInt8 = 0x12
    static let algorithmSHA256WithRSA: UInt8 = 0x42
    static let algorithmRSAPKCS1: UInt8 = 0x02
    /// MSE SET CT algorithm of PSO DECIPHER, RSA PKCS#1 v1.5 with card-side unpadding (cps4-card.md §11.3).
    static let algorithmRSADecipher: UInt8 = 0x1A
    /// The padding-indicator byte that starts PSO DECIPHER data (`10 2A 80 86 FF 81 …`, §11.3).
    static let decipherPaddingIndicator: UInt8 = 0x81
    /// CKA_ID of CPS_PRIV_SIG and its certificate (§4.2).
    static let signatureKeyID: [UInt8] = iasAID + [0x01]
    /// CKA_ID of CPS_PRIV_AUT and its certificate (§4.2).
    static let authenticationKeyID: [UInt8] = iasAID + [0x02]
    static let rsaModulusBits = 2048
    /// INTERNAL AUTHENTICATE input limit, 40% of a 2048-bit modulus (§6.3 [I]).
    static let internalAuthenticateMaxInput = 102

    // MARK: - Instructions (§5)

    static let classISO: UInt8 = 0x00
    /// CLA of every command of a chain but the last (ISO/IEC 7816-4 §5.1.1, bit b5).
    static let classChaining: UInt8 = 0x10
    static let insSelect: UInt8 = 0xA4
    static let insReadBinary: UInt8 = 0xB0
    static let insUpdateBinary: UInt8 = 0xD6
    static let insGetResponse: UInt8 = 0xC0
    static let insGetData: UInt8 = 0xCB
    static let insVerify: UInt8 = 0x20
    static let insChangeReferenceData: UInt8 = 0x24
    static let insResetRetryCounter: UInt8 = 0x2C
    static let insManageSecurityEnvironment: UInt8 = 0x22
    static let insPerformSecurityOperation: UInt8 = 0x2A
    static let insInternalAuthenticate: UInt8 = 0x88
    static let insGetChallenge: UInt8 = 0x84

    /// READ BINARY returns at most 0xE7 bytes per command (§5).
    static let readBinaryMaxLength = 0xE7
    static let challengeLength = 8
}

extension StatusWord {
    /// 6986: command not allowed, no current EF (ISO/IEC 7816-4 §5.6, table 6).
    static let noCurrentEF = StatusWord(rawValue: 0x6986)
}
