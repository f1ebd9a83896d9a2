package import SmartCardCore

/// The CPS3 (IAS-ECC) card driver. Every operation takes the transaction's session (STYLE.md rule 4)
/// and sends the fewest APDUs it can: no file is read twice, no SELECT is sent that the previous
/// command already made unnecessary. Counts are pinned by tests.
package struct CPS3Driver: Sendable {
    package init() {}

    /// Reads everything the middleware needs at insertion: serial, counters, PKCS#15 objects and
    /// both certificates. No PIN is involved and no try is spent.
    package static func readCard(_ session: inout CardSession) throws(IASECCError) -> CardContents {
        guard CardKind(atr: session.atr.bytes) == .cps3Contact else {
            throw IASECCError(.notCPS3, "ATR \(session.atr) is not a CPS3 contact card")
        }
        // MF first: EF.SN.ICC by SFI and the DOCP GET DATA both need it current.
        try selectMasterFile(&session)
        let pan = try readPAN(&session)
        let pinStatus = try readPINStatus(&session, selectingMasterFile: false)
        try selectApplication(&session)
        let odf = try decode(session.readFile(CPS3.efODF, "EF.ODF"), PKCS15Parser.objectDirectory)
        let tokenInfo = try decode(session.readFile(CPS3.efTokenInfo, "EF.TokenInfo"), PKCS15Parser.tokenInfo)
        var pins: [PINObject] = []
        for path in odf.authObjects { pins += try decode(session.readPath(path, "AODF"), PKCS15Parser.pinObjects) }
        var keys: [PrivateKeyObject] = []
        for path in odf.privateKeys { keys += try decode(session.readPath(path, "PrKDF"), PKCS15Parser.privateKeys) }
        var certificateObjects: [CertificateObject] = []
        for path in odf.certificates {
            certificateObjects += try decode(session.readPath(path, "CDF"), PKCS15Parser.certificates)
        }
        var certificates: [CardCertificate] = []
        for object in certificateObjects {
            let der = try session.readPath(object.path, object.label)
            certificates.append(CardCertificate(object: object, der: try decode(der, CertificateDER.trimmed)))
        }
        let dataObjects = try DataObjectFiles.tolerant { () throws(IASECCError) in
            try readDataObjects(&session, directories: odf.dataObjects)
        }
        return CardContents(
            serialNumber: serialNumber(fromPAN: pan), pan: pan, tokenInfo: tokenInfo, pinObjects: pins,
            privateKeys: keys, certificates: certificates, pinStatus: pinStatus, dataObjects: dataObjects)
    }

    /// SELECT the IAS application by AID; 6A82 means this is not a CPS3 IAS-ECC card.
    package static func selectApplication(_ session: inout CardSession) throws(IASECCError) {
        session.currentApplication = nil
        let response = try session.send(.selectApplication(CPS3.iasApplicationAID))
        if response.statusWord == .fileNotFound {
            throw IASECCError(.notCPS3, "no CPx IAS application (SELECT AID answered 6A82)")
        }
        if let error = IASECCError.check(response.statusWord, "SELECT IAS application") { throw error }
        session.currentApplication = CPS3.iasApplicationAID
    }

    /// Selects the application unless this transaction already did (and selected nothing else since).
    static func ensureApplication(_ session: inout CardSession) throws(IASECCError) {
        if session.currentApplication != CPS3.iasApplicationAID { try selectApplication(&session) }
    }

    /// EF.SN.ICC by SFI: `5A 0A <BCD PAN>` (cps3-card.md §3.2). The MF must be current.
    static func readPAN(_ session: inout CardSession) throws(IASECCError) -> [UInt8] {
        let content = try session.expectSuccess(.readBinary(sfi: CPS3.efSerialSFI, length: 12), "READ EF.SN.ICC")
        let element = try decode(content) { (bytes) throws(ASN1Error) in try BERElement.sequence(bytes[...]) }.first
        guard let element, element.tag == 0x5A, element.value.count >= 6 else {
            throw IASECCError(.malformedCardData, "EF.SN.ICC does not hold a PAN (tag 5A)")
        }
        return Array(element.value)
    }

    /// Cryptolib's serial: the PAN's digits without the `8025000001` issuer prefix (5 bytes) and
    /// without the last byte (check digit and pad).
    package static func serialNumber(fromPAN pan: [UInt8]) -> String {
        guard pan.count > 6 else { return Hex.string(from: pan, separator: "") }
        return Hex.string(from: pan.dropFirst(5).dropLast(), separator: "")
    }

    /// Parses card data; a parse failure is `.malformedCardData`, never a crash.
    static func decode<R>(_ bytes: [UInt8], _ parser: ([UInt8]) throws(ASN1Error) -> R) throws(IASECCError) -> R {
        do {
            return try parser(bytes)
        } catch {
            throw IASECCError(.malformedCardData, error.description)
        }
    }
}

extension CardSession {
    /// Reads a PKCS#15 path: an absolute path (from 3F00) or a FID relative to the application DF,
    /// which is current. Paths into the application DF select by FID only, saving the path walk.
    mutating func readPath(_ path: [UInt8], _ name: String) throws(IASECCError) -> [UInt8] {
        var relative = path
        if path.starts(with: CPS3.masterFile + CPS3.applicationDF) {
            relative = Array(path.dropFirst(4))
        } else if path.starts(with: CPS3.masterFile) {
            _ = try expectSuccess(.selectPath(path), "SELECT \(name)")
            return try readCurrentFile()
        }
        guard relative.count == 2 else {
            _ = try expectSuccess(.selectPath(CPS3.masterFile + CPS3.applicationDF + relative), "SELECT \(name)")
            return try readCurrentFile()
        }
        return try readFile(relative, name)
    }
}
