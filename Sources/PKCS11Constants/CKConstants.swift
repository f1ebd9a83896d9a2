/// PKCS#11 2.40 constants as Swift values (numbers from the OASIS pkcs11t.h). The C layer converts
/// them to and from CK_ULONG; everything above it compares these types, never bare integers.

/// CK_UNAVAILABLE_INFORMATION: a length or size that cannot be given.
package let unavailableInformation: UInt = .max

/// A return value (CK_RV).
package struct CKR: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt
    package init(rawValue: UInt) { self.rawValue = rawValue }
    init(_ rawValue: UInt) { self.rawValue = rawValue }
    package var description: String { "CKR(0x" + String(rawValue, radix: 16) + ")" }

    package static let ok = CKR(0x000)
    package static let hostMemory = CKR(0x002)
    package static let slotIDInvalid = CKR(0x003)
    package static let generalError = CKR(0x005)
    package static let functionFailed = CKR(0x006)
    package static let argumentsBad = CKR(0x007)
    package static let noEvent = CKR(0x008)
    package static let cantLock = CKR(0x00A)
    package static let attributeSensitive = CKR(0x011)
    package static let attributeTypeInvalid = CKR(0x012)
    package static let attributeValueInvalid = CKR(0x013)
    package static let dataInvalid = CKR(0x020)
    package static let dataLenRange = CKR(0x021)
    package static let deviceError = CKR(0x030)
    package static let encryptedDataInvalid = CKR(0x040)
    package static let encryptedDataLenRange = CKR(0x041)
    package static let deviceRemoved = CKR(0x032)
    package static let functionNotSupported = CKR(0x054)
    package static let keyHandleInvalid = CKR(0x060)
    package static let keyTypeInconsistent = CKR(0x063)
    package static let keyFunctionNotPermitted = CKR(0x068)
    package static let mechanismInvalid = CKR(0x070)
    package static let mechanismParamInvalid = CKR(0x071)
    package static let objectHandleInvalid = CKR(0x082)
    package static let operationActive = CKR(0x090)
    package static let operationNotInitialized = CKR(0x091)
    package static let pinIncorrect = CKR(0x0A0)
    package static let pinInvalid = CKR(0x0A1)
    package static let pinLenRange = CKR(0x0A2)
    package static let pinLocked = CKR(0x0A4)
    package static let sessionHandleInvalid = CKR(0x0B3)
    package static let sessionParallelNotSupported = CKR(0x0B4)
    package static let sessionReadOnly = CKR(0x0B5)
    package static let sessionReadOnlyExists = CKR(0x0B7)
    package static let sessionReadWriteSOExists = CKR(0x0B8)
    package static let templateInconsistent = CKR(0x0D1)
    package static let tokenNotPresent = CKR(0x0E0)
    package static let userAlreadyLoggedIn = CKR(0x100)
    package static let userNotLoggedIn = CKR(0x101)
    package static let userTypeInvalid = CKR(0x103)
    package static let userAnotherAlreadyLoggedIn = CKR(0x104)
    package static let signatureInvalid = CKR(0x0C0)
    package static let signatureLenRange = CKR(0x0C1)
    package static let bufferTooSmall = CKR(0x150)
    package static let randomSeedNotSupported = CKR(0x120)
    package static let functionCanceled = CKR(0x050)
    package static let cryptokiNotInitialized = CKR(0x190)
    package static let cryptokiAlreadyInitialized = CKR(0x191)
}

/// An attribute type (CK_ATTRIBUTE_TYPE).
package struct CKA: RawRepresentable, Hashable, Sendable {
    package let rawValue: UInt
    package init(rawValue: UInt) { self.rawValue = rawValue }
    init(_ rawValue: UInt) { self.rawValue = rawValue }

    package static let `class` = CKA(0x000)
    package static let token = CKA(0x001)
    package static let `private` = CKA(0x002)
    package static let label = CKA(0x003)
    package static let application = CKA(0x010)
    package static let value = CKA(0x011)
    package static let objectID = CKA(0x012)
    package static let certificateType = CKA(0x080)
    package static let issuer = CKA(0x081)
    package static let serialNumber = CKA(0x082)
    package static let trusted = CKA(0x086)
    package static let certificateCategory = CKA(0x087)
    package static let javaMIDPSecurityDomain = CKA(0x088)
    package static let url = CKA(0x089)
    package static let hashOfSubjectPublicKey = CKA(0x08A)
    package static let hashOfIssuerPublicKey = CKA(0x08B)
    package static let keyType = CKA(0x100)
    package static let subject = CKA(0x101)
    package static let id = CKA(0x102)
    package static let sensitive = CKA(0x103)
    package static let encrypt = CKA(0x104)
    package static let decrypt = CKA(0x105)
    package static let wrap = CKA(0x106)
    package static let unwrap = CKA(0x107)
    package static let sign = CKA(0x108)
    package static let signRecover = CKA(0x109)
    package static let verify = CKA(0x10A)
    package static let verifyRecover = CKA(0x10B)
    package static let derive = CKA(0x10C)
    package static let startDate = CKA(0x110)
    package static let endDate = CKA(0x111)
    package static let modulus = CKA(0x120)
    package static let modulusBits = CKA(0x121)
    package static let publicExponent = CKA(0x122)
    package static let privateExponent = CKA(0x123)
    package static let prime1 = CKA(0x124)
    package static let prime2 = CKA(0x125)
    package static let exponent1 = CKA(0x126)
    package static let exponent2 = CKA(0x127)
    package static let coefficient = CKA(0x128)
    package static let extractable = CKA(0x162)
    package static let local = CKA(0x163)
    package static let neverExtractable = CKA(0x164)
    package static let alwaysSensitive = CKA(0x165)
    package static let keyGenMechanism = CKA(0x166)
    package static let modifiable = CKA(0x170)
    package static let copyable = CKA(0x171)
    package static let destroyable = CKA(0x172)
    package static let alwaysAuthenticate = CKA(0x202)
    package static let wrapWithTrusted = CKA(0x210)
    /// CKA_ALLOWED_MECHANISMS (CKF_ARRAY_ATTRIBUTE | 0x600): an array of CK_MECHANISM_TYPE.
    package static let allowedMechanisms = CKA(0x4000_0600)
}

/// An object class (CK_OBJECT_CLASS).
package enum CKO {
    package static let certificate: UInt = 1
    package static let publicKey: UInt = 2
    package static let privateKey: UInt = 3
}

/// Key types (CK_KEY_TYPE), certificate types (CK_CERTIFICATE_TYPE) and certificate categories.
package enum CKK {
    package static let rsa: UInt = 0
}

package enum CKC {
    package static let x509: UInt = 0
    /// CK_CERTIFICATE_CATEGORY_TOKEN_USER.
    package static let categoryTokenUser: UInt = 1
}

/// A mechanism type (CK_MECHANISM_TYPE).
package struct CKM: RawRepresentable, Hashable, Sendable {
    package let rawValue: UInt
    package init(rawValue: UInt) { self.rawValue = rawValue }
    init(_ rawValue: UInt) { self.rawValue = rawValue }

    package static let rsaPKCS = CKM(0x001)
    package static let rsaX509 = CKM(0x003)
    package static let sha1RSAPKCS = CKM(0x006)
    package static let rsaPKCSPSS = CKM(0x00D)
    package static let sha1RSAPKCSPSS = CKM(0x00E)
    package static let sha256RSAPKCS = CKM(0x040)
    package static let sha256RSAPKCSPSS = CKM(0x043)
    /// Digests: C_DigestInit, and CK_RSA_PKCS_PSS_PARAMS.hashAlg.
    package static let sha1 = CKM(0x220)
    package static let sha256 = CKM(0x250)
}

/// A mask generation function (CK_RSA_PKCS_MGF_TYPE), inside CK_RSA_PKCS_PSS_PARAMS.
package enum CKG {
    package static let mgf1SHA1: UInt = 1
    package static let mgf1SHA256: UInt = 2
}

/// A user type (CK_USER_TYPE).
package struct CKU: RawRepresentable, Hashable, Sendable {
    package let rawValue: UInt
    package init(rawValue: UInt) { self.rawValue = rawValue }

    package static let so = CKU(rawValue: 0)
    package static let user = CKU(rawValue: 1)
    package static let contextSpecific = CKU(rawValue: 2)
}

/// A session state (CK_STATE).
package enum CKS {
    package static let roPublic: UInt = 0
    package static let roUser: UInt = 1
    package static let rwPublic: UInt = 2
    package static let rwUser: UInt = 3
    package static let rwSO: UInt = 4
}

/// Flags (CK_FLAGS), grouped by the structure or call they belong to.
package enum CKF {
    // CK_SLOT_INFO
    package static let tokenPresent: UInt = 0x1
    package static let removableDevice: UInt = 0x2
    package static let hwSlot: UInt = 0x4
    // CK_TOKEN_INFO
    package static let rng: UInt = 0x1
    package static let writeProtected: UInt = 0x2
    package static let protectedAuthenticationPath: UInt = 0x100
    package static let loginRequired: UInt = 0x4
    package static let userPINInitialized: UInt = 0x8
    package static let tokenInitialized: UInt = 0x400
    package static let userPINCountLow: UInt = 0x10000
    package static let userPINFinalTry: UInt = 0x20000
    package static let userPINLocked: UInt = 0x40000
    package static let soPINCountLow: UInt = 0x100000
    package static let soPINFinalTry: UInt = 0x200000
    package static let soPINLocked: UInt = 0x400000
    // CK_SESSION_INFO and C_OpenSession
    package static let rwSession: UInt = 0x2
    package static let serialSession: UInt = 0x4
    // CK_MECHANISM_INFO
    package static let hw: UInt = 0x1
    package static let encryptFlag: UInt = 0x100
    package static let decryptFlag: UInt = 0x200
    package static let digestFlag: UInt = 0x400
    package static let signFlag: UInt = 0x800
    package static let verifyFlag: UInt = 0x2000
    // C_WaitForSlotEvent
    package static let dontBlock: UInt = 0x1
}
