package import SmartCardCore

/// What PKCS#11 sees of one reader.
package struct SlotState: Sendable, Hashable {
    package var id: SlotID
    /// The PC/SC reader name (the slot description, blank-padded/cut to 64 bytes by the C layer).
    package var readerName: String
    /// The token, when a CPx card is in the reader and was read successfully.
    package var token: TokenState?

    package init(id: SlotID, readerName: String, token: TokenState?) {
        self.id = id
        self.readerName = readerName
        self.token = token
    }
}

/// A token as read once at insertion (cps3-card.md §12.2).
package struct TokenState: Sendable, Hashable {
    /// Changes at every insertion: sessions opened on an older generation are invalid.
    package var generation: UInt64
    /// The PKCS#15 TokenInfo label, "CPS3v3-<serial>".
    package var label: String
    /// "ASIP SANTE".
    package var manufacturer: String
    /// "IAS ECC" on CPS3.
    package var model: String
    package var serialNumber: String
    package var pin: TokenCounters
    package var puk: TokenCounters
    package var minPINLength: Int
    package var maxPINLength: Int
    package var certificates: [TokenCertificate]
    package var privateKeys: [TokenPrivateKey]
    /// The CPS business data objects whose value is known: the public ones from insertion, the private ones
    /// once a login read them (cryptolib-pkcs11.md §6).
    package var dataObjects: [TokenDataObject]
    /// The reader has a PIN pad cpsd drives: CKF_PROTECTED_AUTHENTICATION_PATH, and C_Login without a PIN
    /// has the person type it on the reader.
    package var protectedAuthenticationPath = false
    /// The smallest key size C_GetMechanismInfo gives when it is below the keys' own (Cryptolib shows its
    /// CPS3 driver's range, 512–2048, whatever the key: cryptolib-pkcs11.md §7.1); nil: the keys' sizes.
    package var mechanismMinimumKeyBits: Int?

    package init(
        generation: UInt64, label: String, manufacturer: String, model: String, serialNumber: String,
        pin: TokenCounters, puk: TokenCounters, minPINLength: Int, maxPINLength: Int,
        certificates: [TokenCertificate], privateKeys: [TokenPrivateKey], dataObjects: [TokenDataObject] = [],
        mechanismMinimumKeyBits: Int? = nil
    ) {
        self.dataObjects = dataObjects
        self.mechanismMinimumKeyBits = mechanismMinimumKeyBits
        self.generation = generation
        self.label = label
        self.manufacturer = manufacturer
        self.model = model
        self.serialNumber = serialNumber
        self.pin = pin
        self.puk = puk
        self.minPINLength = minPINLength
        self.maxPINLength = maxPINLength
        self.certificates = certificates
        self.privateKeys = privateKeys
    }
}

/// PIN or PUK try counters, for the CKF_USER_PIN_* / CKF_SO_PIN_* token flags.
package struct TokenCounters: Sendable, Hashable {
    package var triesLeft: Int
    package var maxTries: Int
    package init(triesLeft: Int, maxTries: Int) {
        self.triesLeft = triesLeft
        self.maxTries = maxTries
    }
}

/// A certificate object: "Certificat d'Authentification CPS" / "Certificat de Signature CPS".
package struct TokenCertificate: Sendable, Hashable {
    package var label: String
    /// CKA_ID, shared with the matching private and public keys.
    package var id: [UInt8]
    package var der: [UInt8]
    package var role: KeyRole
    package init(label: String, id: [UInt8], der: [UInt8], role: KeyRole) {
        self.label = label
        self.id = id
        self.der = der
        self.role = role
    }
}

/// A private key object: "CPS_PRIV_AUT" / "CPS_PRIV_SIG". Its public half comes from the certificate.
package struct TokenPrivateKey: Sendable, Hashable {
    package var label: String
    package var id: [UInt8]
    package var role: KeyRole
    package var modulusBits: Int
    /// The mechanisms this key offers on this card generation (the card driver says).
    package var capabilities: KeyCapabilities
    package init(label: String, id: [UInt8], role: KeyRole, modulusBits: Int, capabilities: KeyCapabilities) {
        self.label = label
        self.id = id
        self.role = role
        self.modulusBits = modulusBits
        self.capabilities = capabilities
    }
}

/// A CKO_DATA object: a CPS business data object and its value as the card stores it.
package struct TokenDataObject: Sendable, Hashable {
    /// Its place among the card's data objects (known or not yet read): keeps its handle stable.
    package var index: Int
    package var label: String
    /// CKA_APPLICATION.
    package var application: String
    /// CKA_OBJECT_ID (DER), when the card gives one.
    package var objectID: [UInt8]?
    package var isPrivate: Bool
    package var isModifiable: Bool
    package var value: [UInt8]

    package init(
        index: Int, label: String, application: String, objectID: [UInt8]?, isPrivate: Bool, isModifiable: Bool,
        value: [UInt8]
    ) {
        self.index = index
        self.label = label
        self.application = application
        self.objectID = objectID
        self.isPrivate = isPrivate
        self.isModifiable = isModifiable
        self.value = value
    }
}
