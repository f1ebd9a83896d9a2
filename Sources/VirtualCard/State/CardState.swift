package import SmartCardCore

/// Everything a virtual CPS3 or CPS4 card remembers across power cycles and restarts: its identity, its
/// credentials and their counters, its keys and certificates. Saved as `state.json` in the card's
/// state directory (mode 0600), so a blocked card stays blocked after `cps-vcard` restarts.
///
/// Volatile state (selected file, verified PIN, security environment) is not here: it lives in the
/// simulator and is lost at reset, as on a real card.
package struct CardState: Codable, Sendable, Hashable {
    package static let currentFormatVersion = 1

    package var formatVersion: Int = CardState.currentFormatVersion
    /// Ten decimal digits: the TokenInfo label is `CPS3v3-<serial>`; EF.SN.ICC carries it as a BCD PAN.
    package var serial: String
    /// Who the certificates were issued to (informational: the certificates are the authority).
    package var holder: HolderProfile
    /// The cardholder PIN ("code porteur"), reference 01, 4 ASCII digits.
    package var pin: Credential
    /// The unblocking code (PUK), 8 ASCII digits, with its limited number of unblocks.
    package var puk: Credential
    /// Unblocks (RESET RETRY COUNTER) still allowed; at 0 the card is dead (DOCP tag 9D).
    package var unblocksLeft: Int
    package var unblocksMax: Int
    /// RSA-2048 private keys, PKCS#1 DER. Key 0x81 signs (CPS_PRIV_SIG), key 0x82 authenticates (CPS_PRIV_AUT).
    package var signatureKeyDER: [UInt8]
    package var authenticationKeyDER: [UInt8]
    /// X.509 DER of the certificates on the card.
    package var signatureCertificateDER: [UInt8]
    package var authenticationCertificateDER: [UInt8]
    /// The issuing chain, intermediate first, then the root (not on the card: exported for trust stores).
    package var caChainDER: [[UInt8]]
    /// A faulty personalisation, for tests: the key size the PrKDF declares for both keys, whatever the
    /// keys really are (nil: the true 2048). A middleware must not trust it for buffer sizes.
    package var declaredModulusBits: Int?
    /// CPS_DATA, the one writable business-data file, as last written by UPDATE BINARY (nil: never
    /// written, all zeros). Optional so that states saved before it existed still load.
    package var cpsData: [UInt8]?
    /// How this card answers an IAS (CLA 00) command right after a CPS2ter (CLA A0) one: `6E00` until the
    /// root AID is selected again when true, normally when nil or false. Real CPS3 cards do either
    /// (cps4-card.md §11.5); Cryptolib recovers from the former by selecting the root AID and retrying.
    package var refusesIASAfterCPS2ter: Bool?
    /// CPS3 or CPS4 (`CardGeneration.swift`); nil in states saved before CPS4 existed, which are CPS3.
    package var generation: CardGeneration?
    /// A CPS4's ATR; nil means the T=0/T=1 one. Ignored on a CPS3.
    package var cps4ATR: CPS4ATRVariant?
    /// Whether `cps-vcard run/stack` make this card take a real card's time (`CardTiming`) when their own
    /// `--timing` is not given; nil (saved before it existed) is `none`.
    package var timing: CardTimingMode?

    package init(
        serial: String,
        holder: HolderProfile,
        pin: Credential,
        puk: Credential,
        unblocksLeft: Int,
        unblocksMax: Int,
        signatureKeyDER: [UInt8],
        authenticationKeyDER: [UInt8],
        signatureCertificateDER: [UInt8],
        authenticationCertificateDER: [UInt8],
        caChainDER: [[UInt8]]
    ) {
        self.serial = serial
        self.holder = holder
        self.pin = pin
        self.puk = puk
        self.unblocksLeft = unblocksLeft
        self.unblocksMax = unblocksMax
        self.signatureKeyDER = signatureKeyDER
        self.authenticationKeyDER = authenticationKeyDER
        self.signatureCertificateDER = signatureCertificateDER
        self.authenticationCertificateDER = authenticationCertificateDER
        self.caChainDER = caChainDER
    }
}

/// A PIN or PUK with its try counter.
package struct Credential: Codable, Sendable, Hashable {
    /// ASCII digits as the card compares them (no padding).
    package var value: [UInt8]
    package var maxTries: Int
    package var triesLeft: Int

    package init(value: [UInt8], maxTries: Int = 3, triesLeft: Int? = nil) {
        self.value = value
        self.maxTries = maxTries
        self.triesLeft = triesLeft ?? maxTries
    }

    package var isBlocked: Bool { triesLeft == 0 }
}

/// The holder a card is made for (IGC-Santé certificate subject, reference `cps3-card.md` §14.2).
package struct HolderProfile: Codable, Sendable, Hashable {
    /// National identifier: kind digit + identifier, e.g. "8" + 11-digit RPPS = "899700218896".
    package var idNat: String
    package var givenName: String
    package var surname: String
    /// Profession label (certificate attribute T), e.g. "Médecin".
    package var profession: String
    /// CPS, CPF, CPE, CDE, CPA or CDA.
    package var cardType: CardType
    /// Organisation (O) and unit (OU) for salaried holders (CPE, CDE, CPA, CDA), if any.
    package var organization: String?
    package var organizationalUnit: String?

    package init(
        idNat: String,
        givenName: String,
        surname: String,
        profession: String,
        cardType: CardType,
        organization: String? = nil,
        organizationalUnit: String? = nil
    ) {
        self.idNat = idNat
        self.givenName = givenName
        self.surname = surname
        self.profession = profession
        self.cardType = cardType
        self.organization = organization
        self.organizationalUnit = organizationalUnit
    }

    /// The PSC test fixture identity (reference §14.3, §15).
    package static let testDefault = HolderProfile(
        idNat: "899700218896", givenName: "ROBERT", surname: "SPECIALISTE0021889", profession: "Médecin",
        cardType: .cps)
}

/// The CPx card types, shared vocabulary with the driver side.
package typealias CardType = CPxCardType
