package import SmartCardCore

/// The CPS4 (NXP ChipDoc) card driver (cps4-card.md §1–8). Every ChipDoc command goes on logical
/// channel 1 (CLA 01), which the first SELECT of the ChipDoc AID opens; channel 0 is left to the CPS2ter
/// application that older software drives. Files are selected by ISO path (P1=08, 3F00 left out) with
/// their FCI, and read in 256-byte chunks. The file map is not public: it is found through EF.DIR, the
/// ODF and the object directories, as Cryptolib finds it.
package struct CPS4Driver: Sendable {
    /// The PIN and PUK references from the card's AODF, once read; nil until then (each PIN command
    /// then reads the AODF first).
    package var references: PINReferences?

    package init(references: PINReferences? = nil) { self.references = references }

    package struct PINReferences: Sendable, Hashable {
        package var pin: UInt8
        package var puk: UInt8
        package init(pin: UInt8, puk: UInt8) {
            self.pin = pin
            self.puk = puk
        }

        /// The AODF's user PIN and unblocking PIN (flag 6 unblockingPin or 7 soPin), with the defaults
        /// of ANS's test cards when a reference is missing.
        package init(_ objects: [PINObject]) {
            let puk = objects.first { $0.isUnblockingPIN || $0.flags.contains(7) }
            let pin = objects.first { !($0.isUnblockingPIN || $0.flags.contains(7)) }
            self.pin = pin?.reference.map { UInt8(truncatingIfNeeded: $0) } ?? CPS4.defaultPINReference
            self.puk = puk?.reference.map { UInt8(truncatingIfNeeded: $0) } ?? CPS4.defaultPUKReference
        }
    }

    static let cla = CPS4.channelCLA

    /// Reads serial, PKCS#15 objects, certificates and both counters (VERIFY without data: no try spent).
    package static func readCard(_ session: inout CardSession) throws(IASECCError) -> CardContents {
        guard CardKind(atr: session.atr.bytes) == .cps4 else {
            throw IASECCError(.notCPS3, "ATR \(session.atr) is not a CPS4")
        }
        try ensureChipDoc(&session)
        let snFile = try readFile(&session, CPS4.efSerial, "EF.SN.ICC")
        let pan = try CPS3Driver.decode(snFile, ChipDocFiles.pan)
        let applicationPath = try CPS3Driver.decode(readFile(&session, CPS4.efDIR, "EF.DIR")) {
            (bytes) throws(ASN1Error) in try ChipDocFiles.applicationPath(in: bytes, aid: CPS4.pkcs15AID)
        }
        func path(_ relative: [UInt8]) -> [UInt8] { ChipDocFiles.pathAfterMF(relative, application: applicationPath) }
        let odf = try CPS3Driver.decode(
            readFile(&session, path(CPS3.efODF), "EF.ODF"), PKCS15Parser.objectDirectory)
        let tokenInfo = try CPS3Driver.decode(
            readFile(&session, path(CPS3.efTokenInfo), "EF.TokenInfo"), PKCS15Parser.tokenInfo)
        var pins: [PINObject] = []
        for file in odf.authObjects { pins += try CPS3Driver.decode(readFile(&session, path(file), "AODF"), PKCS15Parser.pinObjects) }
        var keys: [PrivateKeyObject] = []
        for file in odf.privateKeys { keys += try CPS3Driver.decode(readFile(&session, path(file), "PrKDF"), PKCS15Parser.privateKeys) }
        var certificateObjects: [CertificateObject] = []
        for file in odf.certificates {
            certificateObjects += try CPS3Driver.decode(readFile(&session, path(file), "CDF"), PKCS15Parser.certificates)
        }
        var certificates: [CardCertificate] = []
        for object in certificateObjects {
            let der = try readFile(&session, path(object.path), object.label)
            certificates.append(CardCertificate(object: object, der: try CPS3Driver.decode(der, CertificateDER.trimmed)))
        }
        let dataObjects = try DataObjectFiles.tolerant { () throws(IASECCError) in
            try readDataObjects(&session, directories: odf.dataObjects, path: path)
        }
        let references = PINReferences(pins)
        let status = PINStatus(
            pin: try counters(&session, reference: references.pin, maxTries: CPS4.pinMaxTries),
            puk: try counters(&session, reference: references.puk, maxTries: CPS4.pukMaxTries))
        return CardContents(
            kind: .cps4, serialNumber: CPS3Driver.serialNumber(fromPAN: pan), pan: pan, tokenInfo: tokenInfo,
            pinObjects: pins, privateKeys: keys, certificates: certificates, pinStatus: status,
            dataObjects: dataObjects)
    }

    /// SELECT of the ChipDoc applet on channel 1, unless this transaction already made it current.
    /// A card that refuses it gets Cryptolib's fallback (ISD, CPS2ter, ChipDoc) once.
    static func ensureChipDoc(_ session: inout CardSession) throws(IASECCError) {
        if session.currentApplication == CPS4.chipDocAID { return }
        let response = try session.send(.selectApplication(CPS4.chipDocAID, cla: cla))
        if response.statusWord.isSuccess {
            session.currentApplication = CPS4.chipDocAID
            return
        }
        try reselectChipDoc(&session)
    }

    /// Selects `pathAfterMF` (ISO, FCI wanted) and reads the file whole: the FCI's size says how many
    /// READ BINARY commands it takes.
    static func readFile(_ session: inout CardSession, _ pathAfterMF: [UInt8], _ name: String) throws(IASECCError)
        -> [UInt8]
    {
        let fci = try withChipDocRecovery(&session) { (session) throws(IASECCError) in
            try session.expectSuccess(.selectPathWithFCI(pathAfterMF, cla: cla), "SELECT \(name)")
        }
        let size = try CPS3Driver.decode(fci, ChipDocFiles.fileSize)
        guard let size else { return try readToEnd(&session, name) }
        guard size <= 16 * 1024 else { throw IASECCError(.malformedCardData, "\(name) announces \(size) bytes") }
        var content: [UInt8] = []
        content.reserveCapacity(size)
        while content.count < size {
            let length = min(CPS4.maxReadLength, size - content.count)
            let chunk = try session.expectSuccess(
                .readBinary(offset: content.count, length: length, cla: cla), "READ BINARY \(name) at \(content.count)")
            guard !chunk.isEmpty else { break }
            content += chunk
        }
        return content
    }

    /// A file whose FCI gives no size: read until a short chunk or the end-of-file status.
    private static func readToEnd(_ session: inout CardSession, _ name: String) throws(IASECCError) -> [UInt8] {
        var content: [UInt8] = []
        while content.count < 16 * 1024 {
            let response = try session.send(.readBinary(offset: content.count, length: CPS4.maxReadLength, cla: cla))
            switch response.statusWord {
            case .success:
                content += response.data
                if response.data.count < CPS4.maxReadLength { return content }
            case .endOfFileReached: return content + response.data
            case .wrongOffset where !content.isEmpty: return content
            default: throw IASECCError.check(response.statusWord, "READ BINARY \(name) at \(content.count)")!
            }
        }
        throw IASECCError(.malformedCardData, "\(name) larger than 16 KiB")
    }
}
