import SmartCardCore

/// The CPS2ter compatibility application of a CPS3, reached with CLA A0 beside IAS (cps3-card.md §10,
/// cps4-card.md §11.3): GSM-style SELECT by FID (P1=00) answered `9F xx`, GET RESPONSE `A0 C0` with an FCI
/// `85 L size(2) FID(2) type`, READ BINARY `A0 B0`. Cryptolib reads its situation files for the objects it
/// synthesizes (CPS2TER_ACTIVITY_nn_PS from 3F00/4010+, CPS_SIT_FACT from 3F00/7F01/4000), after VERIFY.
///
/// Its file contents are SYNTHETIC (the CPS2ter layouts are not public): the group fields SESAM-Vitale
/// software names (cryptolib-pkcs11.md §6.2), in ASCII, as a stand-in. Its current file is kept apart from
/// IAS's: the two applications coexist and a CLA-00 command after a CLA-A0 one is answered normally.
enum CPS2ter {
    static let classByte: UInt8 = 0xA0
    static let billingDF: UInt16 = 0x7F01
    static let billingSituation: UInt16 = 0x4000
    static let firstActivity: UInt16 = 0x4010

    /// GSM 11.11 status words the CPS2ter side uses (cps3-card.md §8).
    static let fileNotFound = StatusWord(rawValue: 0x9404)
    static let accessNotFulfilled = StatusWord(rawValue: 0x9804)
    static let wrongParameters = StatusWord(rawValue: 0x6B00)

    struct File {
        let parent: UInt16?
        /// nil for a DF.
        let content: [UInt8]?
    }

    static func files(_ state: CardState) -> [UInt16: File] {
        let holder = state.holder
        let fields = ["1", holder.cardType.rawValue, "8", holder.idNat, holder.surname, holder.givenName, "SA07", "SM54"]
        let activity = Array(fields.joined(separator: "|").utf8)
        let billing = Array("01|\(holder.idNat.suffix(11))|convention 1|zone 30".utf8)
        return [
            CPS3.masterFile: File(parent: nil, content: nil),
            firstActivity: File(parent: CPS3.masterFile, content: activity),
            billingDF: File(parent: CPS3.masterFile, content: nil),
            billingSituation: File(parent: billingDF, content: billing),
        ]
    }

    /// The SELECT answer: `85 07 size(2) FID(2) type` (GSM types: 01 MF, 02 DF, 04 EF) and 2 RFU bytes.
    static func fci(_ fid: UInt16, _ file: File) -> [UInt8] {
        let size = file.content?.count ?? 0
        let type: UInt8 = file.content != nil ? 0x04 : (fid == CPS3.masterFile ? 0x01 : 0x02)
        let body = [UInt8(size >> 8), UInt8(size & 0xFF), UInt8(fid >> 8), UInt8(fid & 0xFF), type, 0x00, 0x00]
        return TLV.encode(0x85, body)
    }
}

extension CardMachine {
    mutating func dispatchCPS2ter(_ command: CommandAPDU) -> Reply {
        switch command.ins {
        case CPS3.insSelect: return selectCPS2ter(command)
        case CPS3.insReadBinary: return readBinaryCPS2ter(command)
        default: return .status(.instructionNotSupported)
        }
    }

    /// `A0 A4 00 00 02 FID`: a child of the current DF, the MF, or (for a DF's sibling) the MF's child.
    private mutating func selectCPS2ter(_ command: CommandAPDU) -> Reply {
        guard command.p1 == 0x00, command.p2 == 0x00 else { return .status(CPS2ter.wrongParameters) }
        guard command.data.count == 2 else { return .status(.wrongLength) }
        let fid = UInt16(command.data[0]) << 8 | UInt16(command.data[1])
        let files = CPS2ter.files(persistent)
        let currentDF = volatile.cps2terDF
        guard let file = files[fid],
            fid == CPS3.masterFile || file.parent == currentDF || file.parent == CPS3.masterFile
        else { return .status(CPS2ter.fileNotFound) }
        if file.content == nil {
            volatile.cps2terDF = fid
            volatile.cps2terEF = nil
        } else {
            volatile.cps2terDF = file.parent ?? CPS3.masterFile
            volatile.cps2terEF = fid
        }
        return Reply(data: CPS2ter.fci(fid, file))
    }

    /// `A0 B0 offHi offLo Le` on the current CPS2ter EF, once the (shared) PIN is verified.
    private func readBinaryCPS2ter(_ command: CommandAPDU) -> Reply {
        guard let fid = volatile.cps2terEF, let content = CPS2ter.files(persistent)[fid]?.content else {
            return .status(.noCurrentEF)
        }
        guard volatile.pinVerified else { return .status(CPS2ter.accessNotFulfilled) }
        let offset = Int(command.p1) << 8 | Int(command.p2)
        guard let le = command.expectedLength, command.data.isEmpty, le <= CPS3.readBinaryMaxLength || le == 256 else {
            return .status(.wrongLength)
        }
        guard offset < content.count else { return .status(CPS2ter.wrongParameters) }
        return Reply(data: Array(content[offset..<min(offset + le, content.count)]))
    }
}
