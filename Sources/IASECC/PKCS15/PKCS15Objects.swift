/// The PKCS#15 (ISO/IEC 7816-15) objects a CPS3 card describes itself with (cps3-card.md §4).
/// Only what the driver uses is kept; unknown fields are skipped, missing optional ones are nil.

/// EF.ODF: where each object directory lives.
package struct ObjectDirectory: Hashable, Sendable {
    package var privateKeys: [[UInt8]] = []
    package var certificates: [[UInt8]] = []
    package var authObjects: [[UInt8]] = []
    package var dataObjects: [[UInt8]] = []
    package init() {}
}

/// EF.TokenInfo.
package struct TokenInfo: Hashable, Sendable {
    package var version: Int
    /// The serialNumber OCTET STRING as the card stores it.
    package var serialNumber: [UInt8]
    package var manufacturer: String?
    /// e.g. "CPS3v3-2600971845": Cryptolib's PKCS#11 token label.
    package var label: String?
    package var readOnly: Bool
    package var loginRequired: Bool
}

/// An AODF PIN object.
package struct PINObject: Hashable, Sendable {
    package var label: String
    package var authID: [UInt8]
    /// PIN flags bits (PKCS#15 PinFlags): 0 case-sensitive, 1 local, 2 change-disabled, 3 unblock-disabled,
    /// 4 initialized, 5 needs-padding, 6 unblockingPin, 7 soPin.
    package var flags: Set<Int>
    /// 0 bcd, 1 ascii-numeric, 2 utf8, ...
    package var pinType: Int
    package var minLength: Int
    package var storedLength: Int
    package var maxLength: Int?
    package var reference: Int?
    package var padChar: UInt8?

    package var needsPadding: Bool { flags.contains(5) }
    package var isUnblockingPIN: Bool { flags.contains(6) }
}

/// A PrKDF RSA private key.
package struct PrivateKeyObject: Hashable, Sendable {
    package var label: String
    /// CKA_ID, e.g. e828bd080f8025000001ff001001.
    package var id: [UInt8]
    /// KeyUsageFlags bits: 0 encrypt, 1 decrypt, 2 sign, 3 signRecover, 4 wrap, 5 unwrap, 6 verify,
    /// 7 verifyRecover, 8 derive, 9 nonRepudiation.
    package var usage: Set<Int>
    package var keyReference: Int?
    package var authID: [UInt8]?
    package var modulusLength: Int?

    package var canSign: Bool { usage.contains(2) }
    package var isNonRepudiation: Bool { usage.contains(9) }
    package var canDecrypt: Bool { usage.contains(1) }
}

/// A CDF X.509 certificate.
package struct CertificateObject: Hashable, Sendable {
    package var label: String
    package var id: [UInt8]
    package var authority: Bool
    /// Where the certificate's DER lives (absolute path from 3F00, or relative to the application DF).
    package var path: [UInt8]
}
