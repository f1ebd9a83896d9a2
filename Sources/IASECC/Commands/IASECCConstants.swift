/// File identifiers, AIDs and references of the CPS3 IAS-ECC application (cps3-card.md §3, §4, §7).
package enum CPS3 {
    /// "CPx IAS", the PKCS#15 contact application (§3.1).
    package static let iasApplicationAID: [UInt8] = [
        0xE8, 0x28, 0xBD, 0x08, 0x0F, 0x80, 0x25, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x10,
    ]
    package static let masterFile: [UInt8] = [0x3F, 0x00]
    /// The IAS application DF under the MF (§3.2).
    package static let applicationDF: [UInt8] = [0x00, 0x01]
    package static let efDIR: [UInt8] = [0x2F, 0x00]
    package static let efATR: [UInt8] = [0x2F, 0x01]
    /// EF.SN.ICC, short file identifier 0x1C (§3.2).
    package static let efSerialSFI: UInt8 = 0x1C
    /// PKCS#15 EF.ODF and EF.TokenInfo in the application DF (ISO/IEC 7816-15 defaults).
    package static let efODF: [UInt8] = [0x50, 0x31]
    package static let efTokenInfo: [UInt8] = [0x50, 0x32]

    /// Cardholder PIN ("code porteur"), global (§4.4).
    package static let pinReference: UInt8 = 0x01
    /// The PIN's maximum tries (DOCP tag 9A on every CPS3: cps4-card.md §6.1).
    package static let pinMaxTries = 3
    /// Unblocking code (PUK), exposed as the PKCS#11 SO PIN (§4.4, §7).
    package static let pukReference: UInt8 = 0x02
    /// RSA-2048 signature key CPS_PRIV_SIG, used through PSO CDS (§4.2).
    package static let signatureKeyReference: UInt8 = 0x81
    /// RSA-2048 authentication key CPS_PRIV_AUT, used through INTERNAL AUTHENTICATE (§4.2).
    package static let authenticationKeyReference: UInt8 = 0x82

    /// The padding-indicator byte before a PSO DECIPHER cryptogram: PKCS#1 v1.5, removed by the card.
    package static let paddingIndicatorPKCS1: UInt8 = 0x81

    /// READ BINARY returns at most 0xE7 bytes per command (§5).
    package static let maxReadLength = 0xE7
    /// INTERNAL AUTHENTICATE takes at most 40 % of the modulus: 102 bytes for RSA-2048 (§6.3).
    package static let maxInternalAuthenticateInput = 102
}

/// IAS-ECC algorithm references put in MSE CRTs (§4.1, §5).
package enum IASAlgorithm: UInt8, Sendable {
    case sha1 = 0x10
    case sha256 = 0x40
    case sha1WithRSA = 0x12
    case sha256WithRSA = 0x42
    /// RSA PKCS#1 v1.5 on host-supplied data (INTERNAL AUTHENTICATE).
    case rsaPKCS1 = 0x02
}
