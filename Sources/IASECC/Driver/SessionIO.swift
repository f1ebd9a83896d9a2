package import SmartCardCore

/// The driver's primitives over a `CardSession`: send, check the status word, read a file.
extension CardSession {
    /// Sends `command`; returns its data on 9000, otherwise the mapped `IASECCError`.
    package mutating func expectSuccess(_ command: CommandAPDU, _ operation: String) throws(IASECCError) -> [UInt8] {
        let response = try send(command)
        if let error = IASECCError.check(response.statusWord, operation) { throw error }
        return response.data
    }

    /// Sends `command`, mapping transport failures; the caller judges the status word.
    package mutating func send(_ command: CommandAPDU) throws(IASECCError) -> ResponseAPDU {
        do {
            return try transmit(command)
        } catch {
            throw IASECCError(error)
        }
    }

    /// Reads the current EF to its end in READ BINARY chunks of at most 0xE7 bytes. The file size is
    /// not asked for (that would cost a GET RESPONSE): a short read, 6282 or 6B00 marks the end.
    package mutating func readCurrentFile(limit: Int = 16 * 1024) throws(IASECCError) -> [UInt8] {
        var content: [UInt8] = []
        while content.count < limit {
            let response = try send(.readBinary(offset: content.count, length: CPS3.maxReadLength))
            switch response.statusWord {
            case .success:
                content += response.data
                if response.data.count < CPS3.maxReadLength { return content }
            case .endOfFileReached:
                return content + response.data
            case .wrongOffset where !content.isEmpty:
                return content
            default:
                throw IASECCError.check(response.statusWord, "READ BINARY at \(content.count)")!
            }
        }
        throw IASECCError(.malformedCardData, "file larger than \(limit) bytes")
    }

    /// Selects `fid` in the current DF and reads it whole.
    package mutating func readFile(_ fid: [UInt8], _ name: String) throws(IASECCError) -> [UInt8] {
        _ = try expectSuccess(.selectFile(fid), "SELECT \(name)")
        return try readCurrentFile()
    }
}
