import PKCS11Constants
package import SmartCardCore

/// The seam between the PKCS#11 semantics (this target, pure Swift) and whatever owns the cards (the
/// daemon's reader actors). Calls come synchronously from a client's connection thread, which may
/// block while the card works; implementations must never block the Swift concurrency pool.
///
/// Every call that touches a card names the client, so the driver can keep the card's global
/// security state (a verified PIN) from leaking between clients: before an operation for a client,
/// the card's verified state is either re-established with that client's PIN or reset.
package protocol TokenDriver: Sendable {
    /// The slots now: one per reader, with the token when a CPx card is in it. Answered from memory.
    func slots() -> [SlotState]

    /// C_GetTokenInfo: read the card's PIN and PUK counters again (no try spent), so that `slots()` shows a
    /// try spent through another middleware. May answer from memory when read very recently.
    func refreshCounters(slot: SlotID)

    /// C_Login: VERIFY the PIN (user) or the PUK (SO) once. A wrong code throws `.pinIncorrect`
    /// with the tries left; it is never retried. On success `client` is logged in (the card itself is
    /// reset at once: it is verified again, from the kept PIN, only inside each later operation).
    func login(
        client: ClientID, slot: SlotID, generation: UInt64, userType: UserType, pin: borrowing SecretBytes
    ) throws(TokenError)

    /// C_Logout, or the client's last session closed: the card forgets the verification if it was this client's.
    func logout(client: ClientID, slot: SlotID)

    /// A signature with a private key, in one card transaction: VERIFY `pin` once (never retried), sign,
    /// and reset the card's security state so nobody finds it verified afterwards.
    ///
    /// With `.keptSinceLogin`, `pin` is the one `client` gave at C_Login: the driver sends it only if that
    /// login still stands (no PIN change or unblock since, by anyone) and the card's PIN counter is the one
    /// it knows (nobody spent a try behind its back). Otherwise, and when the card refuses it, the login
    /// ends (`.notLoggedIn`, or `.pinIncorrect` once) and the kept PIN must never be sent again.
    func sign(
        client: ClientID, slot: SlotID, generation: UInt64, request: SignatureRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8]

    /// C_Decrypt with a private key, under the same PIN rules as `sign`.
    func decrypt(
        client: ClientID, slot: SlotID, generation: UInt64, request: DecryptionRequest, pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError) -> [UInt8]

    /// C_SetPIN: CHANGE REFERENCE DATA with the old and new PIN.
    func changePIN(
        client: ClientID, slot: SlotID, generation: UInt64, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(TokenError)

    /// C_InitPIN after an SO login: VERIFY the PUK, then RESET RETRY COUNTER with the new PIN.
    func unblockPIN(
        client: ClientID, slot: SlotID, generation: UInt64, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(TokenError)

    /// C_SetAttributeValue(CKA_VALUE) of the modifiable data object `label` (CPS_DATA, cryptolib-pkcs11.md
    /// §6.3): the card rewrites the whole file (`value` zero-padded to its size) and the token's memory follows.
    /// The card wants the PIN for the write, so this runs under the same PIN rules as `sign`.
    func writeData(
        client: ClientID, slot: SlotID, generation: UInt64, label: String, value: [UInt8], pin: borrowing SecretBytes,
        origin: PINOrigin
    ) throws(TokenError)

    /// C_GenerateRandom: GET CHALLENGE as many times as needed.
    func generateRandom(client: ClientID, slot: SlotID, generation: UInt64, length: Int) throws(TokenError) -> [UInt8]

    /// Slots whose state changed (reader added/removed, card inserted/removed) after `cursor`, and the new
    /// cursor. Never blocks: C_WaitForSlotEvent is served with CKF_DONT_BLOCK only.
    func slotEvents(after cursor: UInt64) -> (slots: [SlotID], cursor: UInt64)

    /// The connection ended (client disconnected or C_Finalize): forget everything about `client`.
    func clientEnded(_ client: ClientID)
}

/// Where the PIN of an operation comes from, which decides what the driver may do with it.
package enum PINOrigin: Sendable, Hashable {
    /// Kept by the client since its C_Login: sent again only while that login provably still holds.
    case keptSinceLogin
    /// Typed by the user for this one operation (the bridge's PIN dialog): verified once, then forgotten.
    case typedForThisOperation
}

/// Who is calling: one per p11-kit connection (or per in-process user).
package struct ClientID: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt64
    package init(_ rawValue: UInt64) { self.rawValue = rawValue }
    package var description: String { "client#\(rawValue)" }
}

/// A PKCS#11 slot ID (CK_SLOT_ID). Stable for a reader name for the daemon's life.
package typealias SlotID = UInt

package enum UserType: Sendable, Hashable {
    /// CKU_USER: the cardholder PIN.
    case user
    /// CKU_SO: the unblocking code (PUK), as Cryptolib exposes it.
    case securityOfficer
}

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

/// Why a token operation failed, in the terms PKCS#11 reports (each maps to exactly one CKR).
package struct TokenError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable, Hashable {
        /// CKR_PIN_INCORRECT; `triesLeft` says how many remain.
        case pinIncorrect
        /// CKR_DATA_INVALID: data of a length the mechanism takes, but not of its form (refused before the card).
        case dataInvalid
        /// CKR_PIN_LOCKED.
        case pinLocked
        /// CKR_PIN_LEN_RANGE (refused before the card saw it).
        case pinLengthRange
        /// CKR_PIN_INVALID (non-digits; refused before the card saw it).
        case pinInvalid
        /// CKR_USER_NOT_LOGGED_IN (the card answered 6982).
        case notLoggedIn
        /// CKR_TOKEN_NOT_PRESENT.
        case tokenNotPresent
        /// CKR_DEVICE_REMOVED: the card of this generation was pulled.
        case deviceRemoved
        /// CKR_SLOT_ID_INVALID.
        case slotInvalid
        /// CKR_DATA_LEN_RANGE.
        case dataLengthRange
        /// CKR_KEY_TYPE_INCONSISTENT / CKR_MECHANISM_INVALID for a key that cannot do it.
        case mechanismInvalid
        /// CKR_ENCRYPTED_DATA_INVALID: the cryptogram does not decrypt to a well-padded message.
        case encryptedDataInvalid
        /// CKR_DEVICE_ERROR: the reader, pcscd or the card failed.
        case deviceError
        /// CKR_FUNCTION_FAILED.
        case functionFailed
        /// CKR_FUNCTION_CANCELED: the person cancelled the PIN entry on the reader (or typed nothing in time).
        case cancelled
    }

    package let code: Code
    package let reason: String
    package let triesLeft: Int?

    package init(_ code: Code, _ reason: String, triesLeft: Int? = nil) {
        self.code = code
        self.reason = reason
        self.triesLeft = triesLeft
    }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    package func hash(into hasher: inout Hasher) { hasher.combine(code) }
    package var description: String { "\(code.rawValue): \(reason)" }
}
