import SmartCardCore

/// The CPS business-data objects of the IAS application (cryptolib-pkcs11.md §6, cps4-card.md §4, §11.2):
/// the files the DODF names under 3F00/0001 and their contents.
///
/// SYNTHETIC — the one place: ANS's layout of these objects (document "ASIP_CPS3_Données-métier") is not
/// public, nor are the FIDs of the DODF and of the free objects. Known: CPS_DATA is most likely D107 (never
/// cached), situations are D120–D12F, CPS_ACTIVITY_nn_PS is a constructed `EE` with `84` raison sociale, `85`
/// structure id, `86` activity sector, CPS_INFO_PS ends with the R01 specialty code. Everything else below
/// (the DODF FID 7004, D100–D103, the tags inside the free objects, CPS_DATA's 256 bytes) is our choice.
enum BusinessData {
    static let efDODF: UInt16 = 0x7004
    static let efCPSData: UInt16 = 0xD107
    static let cpsDataSize = 256
    static let applicationLabel = "CPS"

    enum Access {
        /// Read by anyone, never written.
        case free
        /// Read by anyone, UPDATE BINARY once the PIN is verified (CPS_DATA only).
        case freeReadPINUpdate
        /// Read once the PIN is verified (situations).
        case pinRead
    }

    struct Object {
        let label: String
        let fid: UInt16
        let access: Access
        let content: [UInt8]
    }

    /// The objects of a card, in DODF order. `cpsData` is CPS_DATA as last written (nil: zeros).
    static func objects(_ state: CardState) -> [Object] {
        let holder = state.holder
        let ascii = { (text: String) in Array(text.utf8) }
        let activity = TLV.encode(
            0xEE,
            TLV.encode(0x84, ascii(holder.organization ?? "CABINET DR \(holder.surname)"))
                + TLV.encode(0x85, ascii("4" + holder.idNat.suffix(11) + "001"))
                + TLV.encode(0x86, ascii("SA07")))
        return [
            Object(label: "CPS_DATA", fid: efCPSData, access: .freeReadPINUpdate, content: cpsData(state)),
            Object(
                label: "CPS_ID_CARD", fid: 0xD100, access: .free,
                content: TLV.encode(0x80, ascii(state.serial)) + TLV.encode(0x81, ascii(holder.cardType.rawValue))),
            Object(
                label: "CPS_NAME_PS", fid: 0xD101, access: .free,
                content: TLV.encode(0x80, ascii(holder.idNat)) + TLV.encode(0x81, ascii(holder.surname))
                    + TLV.encode(0x82, ascii(holder.givenName))),
            Object(label: "CPS_LANG_PS", fid: 0xD102, access: .free, content: ascii("fr")),
            Object(
                label: "CPS_INFO_PS", fid: 0xD103, access: .free,
                content: ascii("\(holder.idNat) \(holder.surname) \(holder.givenName) SM54")),
            Object(label: "CPS_ACTIVITY_01_PS", fid: 0xD120, access: .pinRead, content: activity),
        ]
    }

    static func cpsData(_ state: CardState) -> [UInt8] {
        state.cpsData ?? [UInt8](repeating: 0, count: cpsDataSize)
    }

    /// EF.DODF: one `opaqueDO` per object (PKCS#15 DataType): common attributes (label, flags, authId for the
    /// private ones), the application label, and `[1]` the path of its file.
    static func dodf(_ objects: [Object]) -> [UInt8] {
        objects.flatMap { object -> [UInt8] in
            let isPrivate = object.access == .pinRead
            let flags: [Int] = isPrivate ? [0] : (object.access == .freeReadPINUpdate ? [1] : [])
            var common = TLV.utf8String(object.label) + TLV.bitString(namedBits: flags)
            if isPrivate { common += TLV.octetString([CPS3.pinReference]) }
            return TLV.sequence(
                TLV.sequence(common),
                TLV.sequence(TLV.utf8String(applicationLabel)),
                TLV.encode(0xA1, TLV.sequence(TLV.octetString(PKCS15Content.path(object.fid)))))
        }
    }
}
