package import SmartCardCore

/// CPS4 behind the generation seam: PSS on both keys, raw RSA and every PKCS#1 v1.5 form on the
/// authentication key (the host pads, the card does raw RSA), decryption with the host removing the padding.
extension CPS4Driver: CardDriver {
    package var kind: CardKind { .cps4 }
    /// What the vendor meant to show (its 5.2 driver shows "IAS ECC" by a bug: cps4-card.md §13); LGC
    /// tell the generations apart by the label prefix `CPS4v1-`.
    package var model: String { "ChipDoc" }
    package var pinLength: Int { CPS3Driver.pinLength }
    package var pukLength: Int { CPS3Driver.pukLength }

    package func readCard(_ session: inout CardSession) throws(IASECCError) -> CardContents {
        try Self.readCard(&session)
    }

    package func bound(to contents: CardContents) -> any CardDriver {
        CPS4Driver(references: PINReferences(contents.pinObjects))
    }

    package func readPINStatus(_ session: inout CardSession) throws(IASECCError) -> PINStatus {
        let references = try resolvedReferences(&session)
        return PINStatus(
            pin: try Self.counters(&session, reference: references.pin, maxTries: CPS4.pinMaxTries),
            puk: try Self.counters(&session, reference: references.puk, maxTries: CPS4.pukMaxTries))
    }

    package func readPINCounters(_ session: inout CardSession) throws(IASECCError) -> CredentialCounters {
        let references = try resolvedReferences(&session)
        return try Self.counters(&session, reference: references.pin, maxTries: CPS4.pinMaxTries)
    }

    package func pinVerificationState(_ session: inout CardSession) throws(IASECCError) -> Int? {
        let references = try resolvedReferences(&session)
        let statusWord = try Self.verifyStatus(&session, reference: references.pin)
        if statusWord.isSuccess { return nil }
        return try Self.counters(from: statusWord, maxTries: CPS4.pinMaxTries).triesLeft
    }

    package func verifyPIN(_ session: inout CardSession, _ pin: borrowing SecretBytes) throws(IASECCError) {
        try CPS3Driver.checkFormat(pin, length: pinLength, what: "PIN")
        let references = try resolvedReferences(&session)
        try Self.verify(&session, reference: references.pin, pin, "VERIFY PIN")
    }

    package func verifyPUK(_ session: inout CardSession, _ puk: borrowing SecretBytes) throws(IASECCError) {
        try CPS3Driver.checkFormat(puk, length: pukLength, what: "PUK")
        let references = try resolvedReferences(&session)
        try Self.verify(&session, reference: references.puk, puk, "VERIFY PUK")
    }

    /// VERIFY the old PIN, then CHANGE with the new value only (§6.3: two commands on ChipDoc).
    package func changePIN(
        _ session: inout CardSession, old: borrowing SecretBytes, new: borrowing SecretBytes
    ) throws(IASECCError) {
        try CPS3Driver.checkFormat(old, length: pinLength, what: "current PIN")
        try CPS3Driver.checkFormat(new, length: pinLength, what: "new PIN")
        let references = try resolvedReferences(&session)
        try Self.verify(&session, reference: references.pin, old, "VERIFY PIN")
        try Self.setNewPIN(&session, reference: references.pin, new)
    }

    /// VERIFY the PUK, RESET RETRY COUNTER, then CHANGE with the new PIN (§6.3, the 5.2 code's sequence).
    package func unblockPIN(
        _ session: inout CardSession, puk: borrowing SecretBytes, newPIN: borrowing SecretBytes
    ) throws(IASECCError) {
        try CPS3Driver.checkFormat(puk, length: pukLength, what: "PUK")
        try CPS3Driver.checkFormat(newPIN, length: pinLength, what: "new PIN")
        let references = try resolvedReferences(&session)
        try Self.verify(&session, reference: references.puk, puk, "VERIFY PUK")
        try Self.resetRetryCounter(&session, reference: references.pin)
        try Self.setNewPIN(&session, reference: references.pin, newPIN)
    }

    package func role(of key: PrivateKeyObject) -> KeyRole? {
        switch key.keyReference.map(UInt8.init(truncatingIfNeeded:)) {
        case CPS4.signatureKeyReference: .signature
        case CPS4.authenticationKeyReference: .authentication
        default: nil
        }
    }

    package func capabilities(of role: KeyRole) -> KeyCapabilities {
        let pss: Set<SignatureMechanism> = [.rsaPKCSPSS, .sha1RSAPKCSPSS, .sha256RSAPKCSPSS]
        let pkcs1: Set<SignatureMechanism> = [.rsaPKCS, .sha1RSAPKCS, .sha256RSAPKCS]
        switch role {
        case .signature: return KeyCapabilities(signatures: pkcs1.union(pss))
        case .authentication:
            return KeyCapabilities(signatures: pkcs1.union(pss).union([.rsaX509]), decryptions: [.rsaPKCS, .rsaX509])
        }
    }

    package func validate(_ request: SignatureRequest) throws(IASECCError) {
        try request.check(against: capabilities(of: request.role))
        switch (request.role, request.mechanism) {
        case (.signature, .rsaPKCS): _ = try CPS3Driver.hashAndDigest(of: request.data)
        case (.authentication, .rsaPKCS):
            guard request.data.count <= Self.modulusLength - 11 else {
                throw IASECCError(.inputTooLong, "PKCS#1 v1.5 signs at most \(Self.modulusLength - 11) bytes")
            }
        case (.authentication, .rsaX509):
            guard request.data.count <= Self.modulusLength else {
                throw IASECCError(.inputTooLong, "raw RSA takes at most \(Self.modulusLength) bytes")
            }
        default: break
        }
    }

    package func validate(_ request: DecryptionRequest) throws(IASECCError) {
        try request.check(against: capabilities(of: request.role))
    }

    package func sign(_ session: inout CardSession, _ request: SignatureRequest) throws(IASECCError) -> [UInt8] {
        try validate(request)
        return try Self.sign(&session, request)
    }

    package func decrypt(_ session: inout CardSession, _ request: DecryptionRequest) throws(IASECCError) -> [UInt8] {
        try validate(request)
        return try Self.decrypt(&session, request)
    }

    package func readProtectedDataObjects(_ session: inout CardSession, _ objects: [CardDataObject])
        throws(IASECCError) -> [CardDataObject]
    {
        try Self.readProtectedDataObjects(&session, objects)
    }

    package func writeDataObject(_ session: inout CardSession, _ object: CardDataObject, value: [UInt8])
        throws(IASECCError) -> [UInt8]
    {
        try Self.writeDataObject(&session, object, value: value)
    }

    package func getChallenge(_ session: inout CardSession, length: Int) throws(IASECCError) -> [UInt8] {
        try Self.ensureChipDoc(&session)
        var random: [UInt8] = []
        random.reserveCapacity(length + 8)
        while random.count < length {
            let chunk = try session.expectSuccess(
                CommandAPDU(cla: Self.cla, ins: 0x84, p1: 0x00, p2: 0x00, expectedLength: 8), "GET CHALLENGE")
            guard chunk.count == 8 else {
                throw IASECCError(.malformedCardData, "GET CHALLENGE returned \(chunk.count) bytes, not 8")
            }
            random += chunk
        }
        return Array(random.prefix(length))
    }
}
