/// The card's file tree (reference `cps3-card.md` §3.2): the MF with EF.ATR, EF.DIR, EF.SN.ICC and the
/// IAS application DF holding the PKCS#15 files and the business-data files of the DODF (`BusinessData`).
/// All EFs are transparent and read-only (§3.2 ACLs) except CPS_DATA, written after VERIFY.
struct CardFileSystem {
    struct File {
        var fid: UInt16
        /// nil for the MF; the DF's FID for every other file.
        var parent: UInt16?
        var kind: Kind
        /// Who may read and write it (business-data files only; every other EF is read-always).
        var access: BusinessData.Access = .free
    }

    enum Kind {
        case dedicated(aid: [UInt8]?)
        case elementary(content: [UInt8], sfi: UInt8?)
    }

    private(set) var files: [UInt16: File] = [:]

    init(state: CardState) {
        add(File(fid: CPS3.masterFile, parent: nil, kind: .dedicated(aid: CPS3.rootAID)))
        addEF(CPS3.efATR, in: CPS3.masterFile, Self.efATRContent, sfi: CPS3.sfiATR)
        addEF(CPS3.efDIR, in: CPS3.masterFile, Self.efDIRContent(), sfi: CPS3.sfiDIR)
        addEF(CPS3.efSNICC, in: CPS3.masterFile, Self.efSNICCContent(serial: state.serial), sfi: CPS3.sfiSNICC)
        add(File(fid: CPS3.iasApplication, parent: CPS3.masterFile, kind: .dedicated(aid: CPS3.iasAID)))
        let ias = CPS3.iasApplication
        addEF(CPS3.efODF, in: ias, PKCS15Content.odf())
        addEF(CPS3.efTokenInfo, in: ias, PKCS15Content.tokenInfo(serial: state.serial))
        addEF(CPS3.efAODF, in: ias, PKCS15Content.aodf())
        addEF(CPS3.efPrKDF, in: ias, PKCS15Content.prkdf(declaredModulusBits: state.declaredModulusBits ?? CPS3.rsaModulusBits))
        addEF(CPS3.efCDF, in: ias, PKCS15Content.cdf())
        addEF(CPS3.efAuthenticationCertificate, in: ias, state.authenticationCertificateDER)
        addEF(CPS3.efSignatureCertificate, in: ias, state.signatureCertificateDER)
        let objects = BusinessData.objects(state)
        addEF(BusinessData.efDODF, in: ias, BusinessData.dodf(objects))
        for object in objects {
            let kind = Kind.elementary(content: object.content, sfi: nil)
            add(File(fid: object.fid, parent: ias, kind: kind, access: object.access))
        }
    }

    /// Writes `data` at `offset` of a transparent EF whose size it keeps; returns the new content, or nil
    /// when it does not fit.
    mutating func update(_ fid: UInt16, offset: Int, _ data: [UInt8]) -> [UInt8]? {
        guard var file = files[fid], case .elementary(var content, let sfi) = file.kind,
            offset + data.count <= content.count
        else { return nil }
        content.replaceSubrange(offset..<(offset + data.count), with: data)
        file.kind = .elementary(content: content, sfi: sfi)
        files[fid] = file
        return content
    }

    mutating func add(_ file: File) { files[file.fid] = file }

    mutating func addEF(_ fid: UInt16, in parent: UInt16, _ content: [UInt8], sfi: UInt8? = nil) {
        add(File(fid: fid, parent: parent, kind: .elementary(content: content, sfi: sfi)))
    }

    // MARK: - Lookup

    /// A file directly under `df`, or `df`'s parent, or the MF (ISO/IEC 7816-4 §7.1.1 P1=00 search).
    func child(_ fid: UInt16, of df: UInt16) -> File? {
        if fid == CPS3.masterFile { return files[fid] }
        guard let file = files[fid], file.parent == df else { return nil }
        return file
    }

    func dedicatedFile(withAID aid: [UInt8]) -> File? {
        files.values.first { file in
            if case .dedicated(let fileAID) = file.kind { return fileAID == aid }
            return false
        }
    }

    /// Resolves a path of FIDs starting at the MF (the MF itself not included).
    func resolve(pathFromMF fids: [UInt16]) -> File? {
        var current = CPS3.masterFile
        var found = files[current]
        for fid in fids {
            guard let file = child(fid, of: current), fid != CPS3.masterFile else { return nil }
            found = file
            current = fid
        }
        return found
    }

    func elementaryFile(sfi: UInt8, in df: UInt16) -> File? {
        files.values.first { file in
            if case .elementary(_, let fileSFI) = file.kind { return file.parent == df && fileSFI == sfi }
            return false
        }
    }

    // MARK: - MF content (§3.2)

    /// EF.ATR as read on a real CPS3 (§3.2, S4 #2220), bogus leading 80 included.
    static let efATRContent: [UInt8] = [
        0x80, 0x43, 0x01, 0xB8, 0x46, 0x04, 0x04, 0xB0, 0xEC, 0xC1, 0x47, 0x03, 0x94, 0x01, 0x80, 0x4F, 0x08, 0x80,
        0x25, 0x00, 0x00, 0x01, 0xFF, 0x01, 0x00, 0xE0, 0x10, 0x02, 0x02, 0x01, 0x04, 0x02, 0x02, 0x01, 0x04, 0x02,
        0x02, 0x01, 0x00, 0x02, 0x02, 0x01, 0x00, 0x78, 0x08, 0x06, 0x06, 0x2B, 0x81, 0x22, 0xF8, 0x78, 0x02, 0x82,
        0x02, 0x90, 0x00,
    ]

    /// One EF.DIR application template: AID, label "CPx IAS", path 3F00 0001 (§16 point 2 [I]).
    static func efDIRContent() -> [UInt8] {
        TLV.encode(
            0x61,
            TLV.encode(0x4F, CPS3.iasAID) + TLV.encode(0x50, Array(CPS3.iasLabel.utf8))
                + TLV.encode(0x51, PKCS15Content.bytes(CPS3.masterFile) + PKCS15Content.bytes(CPS3.iasApplication)))
    }

    /// EF.SN.ICC: `5A 0A` + BCD of "8025000001", the last 8 serial digits, a Luhn digit and an F pad (§3.2).
    static func efSNICCContent(serial: String) -> [UInt8] {
        let digits = serial.filter(\.isASCII).filter(\.isNumber)
        let last8 = String(repeating: "0", count: max(0, 8 - digits.count)) + digits.suffix(8)
        let body = "8025000001" + last8
        let pan = body + String(BCD.luhnCheckDigit(body))
        return TLV.encode(0x5A, BCD.pack(pan))
    }
}
