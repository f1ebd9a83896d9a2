/// The PKCS#15 files and the file tree of the virtual CPS4 (reference `cps4-card.md` §4, §5, §12 point 4).
/// Real CPS4 bytes are not public: these are well-formed files with the known labels, IDs and key references,
/// at the FIDs of `CPS4` (our choice). Paths are full paths from the MF; Cryptolib strips 3F00 when it
/// selects them (ISO P1=08, §3).
enum CPS4Content {
    static func path(_ fid: UInt16) -> [UInt8] {
        PKCS15Content.bytes(CPS3.masterFile) + PKCS15Content.bytes(CPS4.pkcs15Application) + PKCS15Content.bytes(fid)
    }

    /// EF.ODF: privateKeys [0], certificates [4], dataObjects [7], authObjects [8].
    static func odf() -> [UInt8] {
        TLV.encode(0xA0, PKCS15Content.pathObject(path(CPS4.efPrKDF)))
            + TLV.encode(0xA4, PKCS15Content.pathObject(path(CPS4.efCDF)))
            + TLV.encode(0xA7, PKCS15Content.pathObject(path(CPS4.efDODF)))
            + TLV.encode(0xA8, PKCS15Content.pathObject(path(CPS4.efAODF)))
    }

    /// AODF: the PIN (authId 01, the ID the PrKDF and DODF name) and the PUK (authId 02, unblockingPin, soPin),
    /// with the references of `CPS4` (our choice) and no path: the credentials belong to the ChipDoc applet
    /// selected on channel 1, so nothing needs selecting before VERIFY.
    static func aodf() -> [UInt8] {
        PKCS15Content.authenticationObject(
            label: "Code porteur de la carte CPX", reference: CPS4.pinReference, flags: [1, 4],
            minLength: CPS4.pinLength, authID: 0x01, path: nil)
            + PKCS15Content.authenticationObject(
                label: "Code de deblocage de la carte CPX", reference: CPS4.pukReference, flags: [1, 4, 6, 7],
                minLength: CPS4.pukLength, authID: 0x02, path: nil)
    }

    /// PrKDF (§5): CPS_PRIV_SIG (key 0x10, nonRepudiation) and CPS_PRIV_AUT (key 0x20, decrypt + sign).
    static func prkdf(declaredModulusBits bits: Int) -> [UInt8] {
        PKCS15Content.privateKey(
            label: "CPS_PRIV_SIG", id: CPS4.signatureKeyID, usageBits: [9],
            reference: CPS4.signatureKeyReference, modulusBits: bits)
            + PKCS15Content.privateKey(
                label: "CPS_PRIV_AUT", id: CPS4.authenticationKeyID, usageBits: [1, 2],
                reference: CPS4.authenticationKeyReference, modulusBits: bits)
    }

    static func cdf() -> [UInt8] {
        certificate("Certificat d'Authentification CPS", CPS4.authenticationKeyID, CPS4.efAuthenticationCertificate)
            + certificate("Certificat de Signature CPS", CPS4.signatureKeyID, CPS4.efSignatureCertificate)
    }

    private static func certificate(_ label: String, _ id: [UInt8], _ fid: UInt16) -> [UInt8] {
        TLV.sequence(
            TLV.sequence(TLV.utf8String(label)),
            TLV.sequence(TLV.octetString(id)),
            TLV.encode(0xA1, TLV.sequence(PKCS15Content.pathObject(path(fid)))))
    }

    /// The DODF's objects: CPS3's business data (same synthetic contents, same FIDs) plus the CPS2TER_*
    /// objects, which a CPS4 holds as files of its PKCS#15 application (cps4-card.md §1) rather than in CPS2ter.
    static func dataObjects(_ state: CardState) -> [BusinessData.Object] {
        let legacy = CPS2ter.files(state)
        let activity = legacy[CPS2ter.firstActivity]?.content ?? []
        let billing = legacy[CPS2ter.billingSituation]?.content ?? []
        return BusinessData.objects(state) + [
            BusinessData.Object(
                label: "CPS2TER_ACTIVITY_01_PS", fid: CPS4.efCPS2terActivity, access: .pinRead, content: activity),
            BusinessData.Object(label: "CPS_SIT_FACT", fid: CPS4.efCPS2terBilling, access: .pinRead, content: billing),
        ]
    }
}

extension CardFileSystem {
    /// The CPS4 tree: MF (the ChipDoc applet's root) with EF.DIR and EF.SN, and the PKCS#15 application DF.
    init(cps4 state: CardState) {
        add(File(fid: CPS3.masterFile, parent: nil, kind: .dedicated(aid: CPS4.chipDocAID)))
        addEF(CPS4.efDIR, in: CPS3.masterFile, Self.efDIRContent())
        addEF(CPS4.efSNICC, in: CPS3.masterFile, Self.efSNICCContent(serial: state.serial))
        let app = CPS4.pkcs15Application
        add(File(fid: app, parent: CPS3.masterFile, kind: .dedicated(aid: CPS3.iasAID)))
        addEF(CPS4.efODF, in: app, CPS4Content.odf())
        addEF(CPS4.efTokenInfo, in: app, PKCS15Content.tokenInfo(serial: state.serial, label: state.tokenLabel))
        addEF(CPS4.efAODF, in: app, CPS4Content.aodf())
        addEF(CPS4.efPrKDF, in: app, CPS4Content.prkdf(declaredModulusBits: state.declaredModulusBits ?? 2048))
        addEF(CPS4.efCDF, in: app, CPS4Content.cdf())
        addEF(CPS4.efAuthenticationCertificate, in: app, state.authenticationCertificateDER)
        addEF(CPS4.efSignatureCertificate, in: app, state.signatureCertificateDER)
        let objects = CPS4Content.dataObjects(state)
        addEF(CPS4.efDODF, in: app, BusinessData.dodf(objects))
        for object in objects {
            add(
                File(
                    fid: object.fid, parent: app, kind: .elementary(content: object.content, sfi: nil),
                    access: object.access))
        }
    }
}
