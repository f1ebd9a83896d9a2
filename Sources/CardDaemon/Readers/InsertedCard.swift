import IASECC
import PKCS11
import SmartCardCore

/// Who the card is verified for right now, and with which credential.
struct Verification: Hashable, Sendable {
    var client: ClientID
    var userType: UserType
}

/// A CPS3 card that was read at insertion, with what the daemon knows of its security state.
///
/// The invariant that keeps PINs from leaking between clients (DESIGN decision 3): when `verified` is
/// nil, the card is not verified for anybody. Every path that could leave the card verified without
/// recording it (a refused VERIFY, a PIN change, an unblock) resets the card instead.
struct InsertedCard: Sendable {
    let generation: UInt64
    let connection: any CardConnection
    var contents: CardContents
    var verified: Verification?
    /// The clients logged in on this card (C_Login done, no C_Logout yet).
    var loggedIn: [ClientID: UserType] = [:]

    /// Before an operation for `client`: if the card is verified for somebody else, reset it.
    mutating func handOver(to client: ClientID) throws(CardError) {
        if let verified, verified.client != client { try resetSecurity() }
    }

    /// Warm-resets the card (SCardReconnect with SCARD_RESET_CARD): it forgets every verified PIN.
    mutating func resetSecurity() throws(CardError) {
        verified = nil
        try connection.reconnect(.reset)
    }

    /// VERIFY of the PIN or PUK, keeping the counters in memory up to date with the card's answer.
    /// A refusal is reported, never retried.
    mutating func verify(
        _ session: inout CardSession, _ userType: UserType, _ secret: borrowing SecretBytes
    ) throws(IASECCError) {
        let counter: WritableKeyPath<PINStatus, CredentialCounters> = userType == .user ? \.pin : \.puk
        do {
            switch userType {
            case .user: try CPS3Driver.verifyPIN(&session, secret)
            case .securityOfficer: try CPS3Driver.verifyPUK(&session, secret)
            }
        } catch {
            note(error, counter)
            throw error
        }
        contents.pinStatus[keyPath: counter].triesLeft = contents.pinStatus[keyPath: counter].maxTries
    }

    /// Updates a counter from a refusal: 63Cx gives the tries left, 6983 means blocked.
    mutating func note(_ error: IASECCError, _ counter: WritableKeyPath<PINStatus, CredentialCounters>) {
        if error.code == .wrongPIN, let tries = error.triesLeft {
            contents.pinStatus[keyPath: counter].triesLeft = tries
        } else if error.code == .blocked {
            contents.pinStatus[keyPath: counter].triesLeft = 0
        }
    }

    /// The token PKCS#11 shows for this card.
    var token: TokenState { TokenState(contents, generation: generation) }
}

extension CPS3Driver {
    /// VERIFY of the PUK alone (`00 20 00 02 08 <PUK>`, cps3-card.md §7), for an SO login. The IASECC
    /// target only verifies the PUK as part of an unblock; an SO session needs it on its own.
    static func verifyPUK(_ session: inout CardSession, _ puk: borrowing SecretBytes) throws(IASECCError) {
        try checkFormat(puk, length: pukLength, what: "PUK")
        let response: ResponseAPDU
        do {
            response = try session.transmitSensitive(ins: 0x20, p1: 0x00, p2: CPS3.pukReference) { buffer in
                puk.withBytes { buffer += $0 }
            }
        } catch {
            throw IASECCError(error)
        }
        if let error = IASECCError.check(response.statusWord, "VERIFY PUK") { throw error }
    }
}

extension TokenState {
    /// The PKCS#11 view of a card read at insertion (cps3-card.md §12.2).
    init(_ contents: CardContents, generation: UInt64) {
        let serial = contents.serialNumber
        var certificates: [TokenCertificate] = []
        var keys: [TokenPrivateKey] = []
        for key in contents.privateKeys {
            guard let role = Self.role(of: key) else { continue }
            keys.append(TokenPrivateKey(label: key.label, id: key.id, role: role, modulusBits: key.modulusLength ?? 2048))
            if let certificate = contents.certificate(for: key) {
                certificates.append(
                    TokenCertificate(label: certificate.object.label, id: key.id, der: certificate.der, role: role))
            }
        }
        self.init(
            generation: generation,
            label: contents.tokenInfo.label ?? "CPS3v3-\(serial)",
            manufacturer: contents.tokenInfo.manufacturer ?? "ASIP SANTE",
            model: "IAS ECC",
            serialNumber: serial,
            pin: TokenCounters(triesLeft: contents.pinStatus.pin.triesLeft, maxTries: contents.pinStatus.pin.maxTries),
            puk: TokenCounters(triesLeft: contents.pinStatus.puk.triesLeft, maxTries: contents.pinStatus.puk.maxTries),
            minPINLength: CPS3Driver.pinLength,
            maxPINLength: CPS3Driver.pinLength,
            certificates: certificates,
            privateKeys: keys)
    }

    private static func role(of key: PrivateKeyObject) -> KeyRole? {
        switch key.keyReference.map(UInt8.init(truncatingIfNeeded:)) {
        case CPS3.signatureKeyReference: .signature
        case CPS3.authenticationKeyReference: .authentication
        default: nil
        }
    }
}
