import SmartCardCore

/// SELECT, READ BINARY and UPDATE BINARY (reference `cps3-card.md` §3.2 "SELECT rules", §5, §16 points 3-4;
/// `cps4-card.md` §11.4 for the SELECT forms a real CPS3 accepts, §14.2 for its FCPs).
extension CardMachine {
    private enum SelectBy: UInt8 {
        case identifier = 0x00
        case childDF = 0x01
        case childEF = 0x02
        case name = 0x04
        case pathFromMF = 0x08
        /// On CPS3, P1=09 takes the full path, 3F00 included (§3.2, OpenSC PR #2217).
        case fullPath = 0x09
    }

    private static let p2ReturnFCP: UInt8 = 0x04
    private static let p2NoResponse: UInt8 = 0x0C

    /// SELECT `00 A4 P1 P2 Lc data`. P2 must be 04 (FCP) or 0C (nothing): 00 and others give 6A86, for
    /// AIDs too (§3.2).
    mutating func select(_ command: CommandAPDU) -> Reply {
        guard let selectBy = SelectBy(rawValue: command.p1) else { return .status(.incorrectP1P2) }
        guard command.p2 == Self.p2ReturnFCP || command.p2 == Self.p2NoResponse else {
            return .status(.incorrectP1P2)
        }
        guard let file = locate(selectBy, command.data) else { return .status(.fileNotFound) }
        switch file.kind {
        case .dedicated:
            volatile.currentDF = file.fid
            volatile.currentEF = nil
        case .elementary:
            volatile.currentDF = file.parent ?? CPS3.masterFile
            volatile.currentEF = file.fid
        }
        return command.p2 == Self.p2ReturnFCP ? Reply(data: Self.controlParameters(of: file)) : .ok
    }

    private func locate(_ selectBy: SelectBy, _ data: [UInt8]) -> CardFileSystem.File? {
        let fids = Self.fileIdentifiers(data)
        // 3F00 is reserved for the MF: a real CPS3 selects it whatever the P1 (cps4-card.md §11.4 — Cryptolib
        // sends `00 A4 02 0C 02 3F 00` before every VERIFY, older OpenSC `00 A4 00 0C 02 3F 00`).
        if fids == [CPS3.masterFile], selectBy != .name { return fileSystem.files[CPS3.masterFile] }
        switch selectBy {
        case .identifier:
            if data.isEmpty { return fileSystem.files[CPS3.masterFile] }
            guard let fids, fids.count == 1 else { return nil }
            return fileSystem.child(fids[0], of: volatile.currentDF)
        case .childDF, .childEF:
            guard let fids, fids.count == 1, let file = fileSystem.child(fids[0], of: volatile.currentDF) else {
                return nil
            }
            let isDF = if case .dedicated = file.kind { true } else { false }
            return isDF == (selectBy == .childDF) ? file : nil
        case .name:
            return fileSystem.dedicatedFile(withAID: data)
        case .pathFromMF:
            guard let fids, !fids.isEmpty else { return nil }
            return fileSystem.resolve(pathFromMF: fids.first == CPS3.masterFile ? Array(fids.dropFirst()) : fids)
        case .fullPath:
            guard let fids, fids.first == CPS3.masterFile else { return nil }
            return fileSystem.resolve(pathFromMF: Array(fids.dropFirst()))
        }
    }

    private static func fileIdentifiers(_ data: [UInt8]) -> [UInt16]? {
        guard data.count % 2 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
    }

    /// Contact access rules (`8C`): a real card's EF.DIR and EF.ATR carry `7B 45 FF FF FF 45 00`, every other
    /// EF of ours read-always `7B FF FF FF FF FF 00` as EF.SN (cps4-card.md §14.2).
    private static func contactAccessRules(_ fid: UInt16) -> [UInt8] {
        fid == CPS3.efDIR || fid == CPS3.efATR
            ? [0x7B, 0x45, 0xFF, 0xFF, 0xFF, 0x45, 0x00] : [0x7B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]
    }

    /// Contactless access rules (`9C`), present on every real FCP of §14.2.
    private static let neverContactless: [UInt8] = [0x7B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]

    /// An FCP template `62` as a real CPS3 answers it (cps4-card.md §14.2): size, descriptor, FID, SFI,
    /// contact and contactless access rules, life cycle "operational, activated".
    static func controlParameters(of file: CardFileSystem.File) -> [UInt8] {
        var body: [UInt8] = []
        switch file.kind {
        case .dedicated(let aid):
            body += TLV.encode(0x82, [0x38])  // DF
            body += TLV.encode(0x83, PKCS15Content.bytes(file.fid))
            if let aid { body += TLV.encode(0x84, aid) }
        case .elementary(let content, let sfi):
            body += TLV.encode(0x80, [UInt8(content.count >> 8), UInt8(content.count & 0xFF)])
            body += TLV.encode(0x82, [0x01])  // transparent working EF
            body += TLV.encode(0x83, PKCS15Content.bytes(file.fid))
            if let sfi { body += TLV.encode(0x88, [sfi << 3]) }
            body += TLV.encode(0xA1, TLV.encode(0x8C, contactAccessRules(file.fid)) + TLV.encode(0x9C, neverContactless))
        }
        body += TLV.encode(0x8A, [0x05])
        return TLV.encode(0x62, body)
    }

    /// READ BINARY `00 B0 offHi offLo Le`, or `00 B0 (80|SFI) off Le` (§5).
    ///
    /// Le above 0xE7 → 6700. Le = 00 (256) means "whatever is left, up to 0xE7", answered 9000: that is
    /// how OpenSC reads EF.SN.ICC (`00 B0 9C 00 00`). An explicit Le beyond the end returns the short
    /// data with 6282 (§16 point 4 [I]); an offset at or past the end → 6B00. No 6Cxx here.
    mutating func readBinary(_ command: CommandAPDU) -> Reply {
        var offset = Int(command.p1) << 8 | Int(command.p2)
        if command.p1 & 0x80 != 0 {
            guard command.p1 & 0x60 == 0 else { return .status(.incorrectP1P2) }
            guard let file = fileSystem.elementaryFile(sfi: command.p1 & 0x1F, in: volatile.currentDF) else {
                return .status(.fileNotFound)
            }
            volatile.currentEF = file.fid
            offset = Int(command.p2)
        }
        guard command.data.isEmpty, let le = command.expectedLength else { return .status(.wrongLength) }
        guard le <= CPS3.readBinaryMaxLength || le == 256 else { return .status(.wrongLength) }
        guard let fid = volatile.currentEF, let file = fileSystem.files[fid],
            case .elementary(let content, _) = file.kind
        else { return .status(.noCurrentEF) }
        if file.access == .pinRead && !volatile.pinVerified { return .status(.securityStatusNotSatisfied) }
        guard offset < content.count else { return .status(.wrongOffset) }
        let wanted = le == 256 ? CPS3.readBinaryMaxLength : le
        let end = min(offset + wanted, content.count)
        let data = Array(content[offset..<end])
        let shortRead = le != 256 && data.count < le
        return Reply(data: data, shortRead ? .endOfFileReached : .success)
    }
}

extension CardMachine {
    /// UPDATE BINARY `00 D6 offHi offLo Lc data` on the current EF (cps4-card.md §11.3, how Cryptolib writes
    /// CPS_DATA in chunks of at most 255 bytes). Only CPS_DATA may be written, once the PIN is verified
    /// (6982 otherwise, and for every other file); data past the end of the file → 6700. The new content
    /// is persisted before the answer, like a try counter.
    mutating func updateBinary(_ command: CommandAPDU) -> Reply {
        guard command.p1 & 0x80 == 0 else { return .status(.incorrectP1P2) }
        guard !command.data.isEmpty else { return .status(.wrongLength) }
        guard let fid = volatile.currentEF, let file = fileSystem.files[fid] else { return .status(.noCurrentEF) }
        guard file.access == .freeReadPINUpdate, volatile.pinVerified else {
            return .status(.securityStatusNotSatisfied)
        }
        let offset = Int(command.p1) << 8 | Int(command.p2)
        guard let content = fileSystem.update(fid, offset: offset, command.data) else { return .status(.wrongLength) }
        if fid == BusinessData.efCPSData { persistent.cpsData = content }
        return .ok
    }
}
