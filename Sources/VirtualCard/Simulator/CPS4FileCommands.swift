import SmartCardCore

/// SELECT, READ BINARY and UPDATE BINARY of the ChipDoc applet (cps4-card.md §3 table rows 2-3, §4, §12
/// point 3): ISO selection, P1=00 (FID), 02 (EF under the current DF) or 08 (path from the MF, 3F00
/// stripped, tolerated when present); P2=00 answers an FCI `6F`, 04 an FCP `62`, 0C nothing.
extension CardMachine {
    mutating func selectFileCPS4(_ command: CommandAPDU, _ context: inout ChipDocContext) -> Reply {
        guard [0x00, 0x04, 0x0C].contains(command.p2) else { return .status(.incorrectP1P2) }
        let data = command.data
        guard data.count % 2 == 0 else { return .status(.wrongLength) }
        let fids = stride(from: 0, to: data.count, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
        guard [0x00, 0x02, 0x08].contains(command.p1) else { return .status(.incorrectP1P2) }
        guard let file = locate(p1: command.p1, fids, from: context) else { return .status(.fileNotFound) }
        switch file.kind {
        case .dedicated:
            context.currentDF = file.fid
            context.currentEF = nil
        case .elementary:
            context.currentDF = file.parent ?? CPS3.masterFile
            context.currentEF = file.fid
        }
        switch command.p2 {
        case 0x00: return Reply(data: Self.fileControlInformation(of: file))
        case 0x04: return Reply(data: Self.controlParameters(of: file))
        default: return .ok
        }
    }

    private func locate(p1: UInt8, _ fids: [UInt16], from context: ChipDocContext) -> CardFileSystem.File? {
        switch (p1, fids.count) {
        case (0x00, 0): return fileSystem.files[CPS3.masterFile]
        case (0x00, 1): return locate(fids[0], from: context)
        case (0x02, 1): return fileSystem.child(fids[0], of: context.currentDF).flatMap(Self.elementary)
        case (0x08, 1...):
            return fileSystem.resolve(pathFromMF: fids.first == CPS3.masterFile ? Array(fids.dropFirst()) : fids)
        default: return nil
        }
    }

    /// P1=00: the MF, a child of the current DF, the current DF's parent, or a sibling (ISO/IEC 7816-4 §7.1.1).
    private func locate(_ fid: UInt16, from context: ChipDocContext) -> CardFileSystem.File? {
        if let file = fileSystem.child(fid, of: context.currentDF) { return file }
        let parent = fileSystem.files[context.currentDF]?.parent ?? CPS3.masterFile
        if fid == parent { return fileSystem.files[parent] }
        return fileSystem.child(fid, of: parent)
    }

    private static func elementary(_ file: CardFileSystem.File) -> CardFileSystem.File? {
        if case .elementary = file.kind { return file }
        return nil
    }

    /// An FCI template `6F` (ISO/IEC 7816-4 §5.3.3), what Cryptolib's ISO SELECT accepts (cps4-card.md §3):
    /// `80`/`81` sizes, `82` descriptor, `83` FID, `84` DF name, `8A` life cycle "operational, activated".
    static func fileControlInformation(of file: CardFileSystem.File) -> [UInt8] {
        var body: [UInt8] = []
        switch file.kind {
        case .dedicated(let aid):
            body += TLV.encode(0x82, [0x38])
            body += TLV.encode(0x83, PKCS15Content.bytes(file.fid))
            if let aid { body += TLV.encode(0x84, aid) }
        case .elementary(let content, _):
            let size = [UInt8(content.count >> 8 & 0xFF), UInt8(content.count & 0xFF)]
            body += TLV.encode(0x80, size) + TLV.encode(0x81, size)
            body += TLV.encode(0x82, [0x01])  // transparent working EF
            body += TLV.encode(0x83, PKCS15Content.bytes(file.fid))
        }
        body += TLV.encode(0x8A, [0x05])
        return TLV.encode(0x6F, body)
    }

    /// READ BINARY `<CLA> B0 offHi offLo Le`: up to 256 bytes (Le 00). Le 00 reads what is left, 9000; an
    /// explicit Le past the end gives the short data and 6282; an offset at or past the end → 6B00.
    func readBinaryCPS4(_ command: CommandAPDU, _ context: ChipDocContext) -> Reply {
        guard command.p1 & 0x80 == 0 else { return .status(.incorrectP1P2) }
        guard command.data.isEmpty, let le = command.expectedLength, le <= CPS4.readBinaryMaxLength else {
            return .status(.wrongLength)
        }
        guard let fid = context.currentEF, let file = fileSystem.files[fid],
            case .elementary(let content, _) = file.kind
        else { return .status(.noCurrentEF) }
        if file.access == .pinRead && !volatile.pinVerified { return .status(.securityStatusNotSatisfied) }
        let offset = Int(command.p1) << 8 | Int(command.p2)
        guard offset < content.count else { return .status(.wrongOffset) }
        let data = Array(content[offset..<min(offset + le, content.count)])
        return Reply(data: data, le != 256 && data.count < le ? .endOfFileReached : .success)
    }

    /// UPDATE BINARY `<CLA> D6 offHi offLo Lc data`: CPS_DATA only, once the PIN is verified; persisted
    /// before the answer.
    mutating func updateBinaryCPS4(_ command: CommandAPDU, _ context: ChipDocContext) -> Reply {
        guard command.p1 & 0x80 == 0 else { return .status(.incorrectP1P2) }
        guard !command.data.isEmpty else { return .status(.wrongLength) }
        guard let fid = context.currentEF, let file = fileSystem.files[fid] else { return .status(.noCurrentEF) }
        guard file.access == .freeReadPINUpdate, volatile.pinVerified else {
            return .status(.securityStatusNotSatisfied)
        }
        let offset = Int(command.p1) << 8 | Int(command.p2)
        guard let content = fileSystem.update(fid, offset: offset, command.data) else { return .status(.wrongLength) }
        if fid == BusinessData.efCPSData { persistent.cpsData = content }
        return .ok
    }
}
