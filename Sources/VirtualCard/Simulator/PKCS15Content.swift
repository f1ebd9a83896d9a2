/// The DER content of the PKCS#15 files of the IAS application (PKCS#15 v1.1 / ISO/IEC 7816-15 ASN.1,
/// reference `cps3-card.md` §4, §16 point 2). Exact real-card bytes are unknown (§17): these are
/// well-formed files with the known labels, IDs and references.
enum PKCS15Content {
    /// Full path from the MF to a file of the IAS application (§3.2: paths keep 3F00).
    static func path(_ fid: UInt16) -> [UInt8] {
        bytes(CPS3.masterFile) + bytes(CPS3.iasApplication) + bytes(fid)
    }

    static func bytes(_ fid: UInt16) -> [UInt8] { [UInt8(fid >> 8), UInt8(fid & 0xFF)] }

    /// `Path ::= SEQUENCE { path OCTET STRING, ... }`.
    static func pathObject(_ path: [UInt8]) -> [UInt8] {
        TLV.sequence(TLV.octetString(path))
    }

    /// EF.ODF: privateKeys [0], certificates [4], dataObjects [7], authObjects [8], each a `Path`.
    static func odf() -> [UInt8] {
        TLV.encode(0xA0, pathObject(path(CPS3.efPrKDF)))
            + TLV.encode(0xA4, pathObject(path(CPS3.efCDF)))
            + TLV.encode(0xA7, pathObject(path(BusinessData.efDODF)))
            + TLV.encode(0xA8, pathObject(path(CPS3.efAODF)))
    }

    /// EF.TokenInfo (§4.1). The serial number is the serial in BCD, so that its hex rendering
    /// (how OpenSC shows an OCTET STRING serial) reads as the serial itself.
    static func tokenInfo(serial: String, label: String? = nil) -> [UInt8] {
        TLV.sequence(
            TLV.integer(0),  // version v1
            TLV.octetString(BCD.pack(serial)),
            TLV.utf8String("ASIP SANTE"),  // manufacturerID
            TLV.encode(0x80, Array((label ?? "CPS3v3-\(serial)").utf8)),  // label [0]
            TLV.bitString(namedBits: [0, 1]),  // tokenflags: readonly, loginRequired
            TLV.encode(0xA5, TLV.encode(0x18, Array("20100316110000Z".utf8)))  // lastUpdate [5] generalizedTime
        )
    }

    /// AODF (§4.4): the cardholder PIN, reference 01, ASCII digits, 4...8 without padding; then the PUK,
    /// reference 02, 8 digits, flagged unblockingPin, so that Cryptolib reads its DOCP (usage counter) and
    /// logs the SO in with it (cps4-card.md §11.2 step 7, §11.3). The PUK's label is ours (synthetic).
    static func aodf() -> [UInt8] {
        authenticationObject(
            label: "Code porteur de la carte CPX", reference: CPS3.pinReference, flags: [1, 4], minLength: 4)
            + authenticationObject(
                label: "Code de deblocage de la carte CPX", reference: CPS3.pukReference, flags: [1, 4, 6, 7],
                minLength: 8)
    }

    /// One PIN object. `flags` are PinFlags bits: 1 local, 4 initialized, 6 unblockingPin, 7 soPin (needs-padding clear).
    /// `authID` defaults to the reference (CPS3); `path` nil leaves the optional path out (CPS4).
    static func authenticationObject(
        label: String, reference: UInt8, flags: [Int], minLength: Int, authID: UInt8? = nil,
        path: [UInt8]? = bytes(CPS3.masterFile)
    ) -> [UInt8] {
        let pinAttributes = TLV.sequence(
            TLV.bitString(namedBits: flags),
            TLV.enumerated(1),  // pinType ascii-numeric
            TLV.integer(minLength),
            TLV.integer(8),  // storedLength
            TLV.integer(8),  // maxLength
            TLV.encode(0x80, [reference]),  // pinReference [0]
            path.map(pathObject) ?? []
        )
        return TLV.sequence(
            TLV.sequence(TLV.utf8String(label)),  // CommonObjectAttributes
            TLV.sequence(TLV.octetString([authID ?? reference])),  // CommonAuthenticationObjectAttributes: authId
            TLV.encode(0xA1, pinAttributes)  // typeAttributes [1]
        )
    }

    /// PrKDF (§4.2): CPS_PRIV_SIG and CPS_PRIV_AUT, with no algorithm references — the real card's
    /// defect is kept on purpose so the driver's fix-up is exercised.
    static func prkdf(declaredModulusBits bits: Int) -> [UInt8] {
        privateKey(
            label: "CPS_PRIV_SIG", id: CPS3.signatureKeyID, usageBits: [9],  // nonRepudiation
            reference: CPS3.signatureKeyReference, modulusBits: bits)
            + privateKey(
                label: "CPS_PRIV_AUT", id: CPS3.authenticationKeyID, usageBits: [1, 2],  // decrypt, sign
                reference: CPS3.authenticationKeyReference, modulusBits: bits)
    }

    static func privateKey(
        label: String, id: [UInt8], usageBits: [Int], reference: UInt8, modulusBits: Int
    ) -> [UInt8] {
        TLV.sequence(
            TLV.sequence(
                TLV.utf8String(label),
                TLV.bitString(namedBits: [0]),  // CommonObjectFlags: private
                TLV.octetString([CPS3.pinReference])  // authId
            ),
            TLV.sequence(
                TLV.octetString(id),
                TLV.bitString(namedBits: usageBits),
                TLV.bitString(namedBits: [0, 2, 3, 4]),  // accessFlags: sensitive, alwaysSensitive, neverExtractable, local
                TLV.integer(Int(reference))  // keyReference
            ),
            TLV.encode(
                0xA1,
                TLV.sequence(
                    pathObject(bytes(CPS3.masterFile) + bytes(CPS3.iasApplication)),
                    TLV.integer(modulusBits)
                ))
        )
    }

    /// CDF (§4.3): the two X.509 certificates, referenced by path.
    static func cdf() -> [UInt8] {
        certificate(
            label: "Certificat d'Authentification CPS", id: CPS3.authenticationKeyID,
            fid: CPS3.efAuthenticationCertificate)
            + certificate(
                label: "Certificat de Signature CPS", id: CPS3.signatureKeyID, fid: CPS3.efSignatureCertificate)
    }

    static func certificate(label: String, id: [UInt8], fid: UInt16) -> [UInt8] {
        TLV.sequence(
            TLV.sequence(TLV.utf8String(label)),
            TLV.sequence(TLV.octetString(id)),
            TLV.encode(0xA1, TLV.sequence(pathObject(path(fid))))
        )
    }
}

/// Packed BCD for digit strings (EF.SN.ICC, TokenInfo serial).
enum BCD {
    /// Two digits per byte; an odd count is padded with F.
    static func pack(_ digits: String) -> [UInt8] {
        var nibbles = digits.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value &- 0x30) & 0x0F }
        if nibbles.count % 2 == 1 { nibbles.append(0x0F) }
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }

    /// The Luhn check digit of `digits` (ISO/IEC 7812-1 annex B).
    static func luhnCheckDigit(_ digits: String) -> Int {
        var sum = 0
        for (position, scalar) in digits.unicodeScalars.reversed().enumerated() {
            var value = Int(scalar.value) - 0x30
            if position % 2 == 0 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return (10 - sum % 10) % 10
    }
}
