import SmartCardCore

/// Reading a CPS2ter file of a CPS3 the way Cryptolib does (cps4-card.md §11.3): GSM-style commands with
/// CLA A0: SELECT by FID (`A0 A4 00 00 02 FID`) answered `9F xx`, GET RESPONSE `A0 C0 00 00 xx` giving the
/// FCI `85 L size(2) FID(2) type …`, then READ BINARY `A0 B0 off Le` (Le ≤ E7). SELECT 3F00 is never sent.
extension CPS3Driver {
    static let cps2terCLA: UInt8 = 0xA0
    /// GSM 11.11: file not found, access condition not fulfilled.
    static let cps2terFileNotFound = StatusWord(rawValue: 0x9404)
    static let cps2terAccessNotFulfilled = StatusWord(rawValue: 0x9804)

    /// The file at the end of `fids`, whole; nil when the card has no such file (9404).
    static func readCPS2terFile(_ session: inout CardSession, _ fids: [[UInt8]], _ name: String) throws(IASECCError)
        -> [UInt8]?
    {
        var fci: [UInt8] = []
        for fid in fids {
            guard let answer = try selectCPS2ter(&session, fid, name) else { return nil }
            fci = answer
        }
        guard fci.count >= 4, fci[0] == 0x85, Int(fci[1]) + 2 <= fci.count else {
            throw IASECCError(.malformedCardData, "CPS2ter SELECT \(name) gave no FCI (85)")
        }
        let size = Int(fci[2]) << 8 | Int(fci[3])
        var content: [UInt8] = []
        content.reserveCapacity(size)
        while content.count < size {
            let length = min(CPS3.maxReadLength, size - content.count)
            let response = try session.send(
                CommandAPDU(
                    cla: cps2terCLA, ins: 0xB0, p1: UInt8(content.count >> 8), p2: UInt8(content.count & 0xFF),
                    expectedLength: length))
            try checkCPS2ter(response.statusWord, "READ BINARY \(name) at \(content.count)")
            guard !response.data.isEmpty else { break }
            content += response.data
        }
        return content
    }

    /// One SELECT and, on `9F xx`, its GET RESPONSE: the FCI, or nil for 9404.
    private static func selectCPS2ter(_ session: inout CardSession, _ fid: [UInt8], _ name: String)
        throws(IASECCError) -> [UInt8]?
    {
        let response = try session.send(CommandAPDU(cla: cps2terCLA, ins: 0xA4, p1: 0x00, p2: 0x00, data: fid))
        if response.statusWord == cps2terFileNotFound { return nil }
        guard response.statusWord.sw1 == 0x9F else {
            try checkCPS2ter(response.statusWord, "CPS2ter SELECT \(name)")
            return response.data
        }
        let available = response.statusWord.sw2 == 0 ? 256 : Int(response.statusWord.sw2)
        // CardSession's GET RESPONSE keeps only the channel bits of CLA: CPS2ter wants A0 itself.
        let fci = try session.send(CommandAPDU(cla: cps2terCLA, ins: 0xC0, p1: 0, p2: 0, expectedLength: available))
        try checkCPS2ter(fci.statusWord, "CPS2ter GET RESPONSE \(name)")
        return fci.data
    }

    private static func checkCPS2ter(_ statusWord: StatusWord, _ operation: String) throws(IASECCError) {
        if statusWord == cps2terAccessNotFulfilled {
            throw IASECCError(.pinRequired, "\(operation): access condition not fulfilled (9804)", statusWord: statusWord)
        }
        if let error = IASECCError.check(statusWord, operation) { throw error }
    }
}
