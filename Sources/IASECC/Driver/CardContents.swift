package import SmartCardCore

/// Everything read from a CPS3 or CPS4 at insertion: enough to answer every later question from memory.
package struct CardContents: Hashable, Sendable {
    /// The generation the card was read as: it says which key references name which key.
    package var kind: CardKind = .cps3Contact
    /// The chip serial from EF.SN.ICC, as Cryptolib shows it (PAN without the ANS prefix and the check byte).
    package var serialNumber: String
    /// The raw BCD PAN of EF.SN.ICC (tag 5A content).
    package var pan: [UInt8]
    package var tokenInfo: TokenInfo
    package var pinObjects: [PINObject]
    package var privateKeys: [PrivateKeyObject]
    package var certificates: [CardCertificate]
    package var pinStatus: PINStatus
    /// The CPS business data objects (DODF, and on CPS3 the synthesized CPS2ter ones), in card order. The
    /// public ones carry their value from insertion; the private ones have none until a login read them.
    package var dataObjects: [CardDataObject] = []

    /// The certificate whose CKA_ID matches the key's.
    package func certificate(for key: PrivateKeyObject) -> CardCertificate? {
        certificates.first { $0.object.id == key.id }
    }

    package var authenticationKey: PrivateKeyObject? {
        let reference = kind == .cps4 ? CPS4.authenticationKeyReference : CPS3.authenticationKeyReference
        return privateKeys.first { $0.keyReference == Int(reference) }
    }

    package var signatureKey: PrivateKeyObject? {
        let reference = kind == .cps4 ? CPS4.signatureKeyReference : CPS3.signatureKeyReference
        return privateKeys.first { $0.keyReference == Int(reference) }
    }
}

/// A certificate object and its DER, as read from the card.
package struct CardCertificate: Hashable, Sendable {
    package var object: CertificateObject
    package var der: [UInt8]
}

/// Try counters of one credential, from the GET DATA DOCP answer (cps3-card.md §7).
package struct CredentialCounters: Hashable, Sendable, Codable {
    package var maxTries: Int
    package var triesLeft: Int
    /// Unblocks allowed in the card's life and left (tags 9C/9D), when the card says.
    package var usageMax: Int?
    package var usageLeft: Int?

    package init(maxTries: Int, triesLeft: Int, usageMax: Int? = nil, usageLeft: Int? = nil) {
        self.maxTries = maxTries
        self.triesLeft = triesLeft
        self.usageMax = usageMax
        self.usageLeft = usageLeft
    }

    package var isBlocked: Bool { triesLeft == 0 }
}

/// The PIN and the PUK (unblocking code) counters.
package struct PINStatus: Hashable, Sendable, Codable {
    package var pin: CredentialCounters
    package var puk: CredentialCounters

    /// Unblocks left for the PIN: the PUK's usage counter if present, else the PIN's.
    package var unblocksLeft: Int? { puk.usageLeft ?? pin.usageLeft }

    /// Cryptolib: a card without unblocks left and a blocked PIN is dead (release note #1175).
    package var isCardDead: Bool { pin.isBlocked && (puk.isBlocked || unblocksLeft == 0) }
}
