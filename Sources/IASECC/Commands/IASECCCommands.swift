package import SmartCardCore

/// The CPS3 commands, one builder each (STYLE.md rule 5). Layouts are cps3-card.md §5 unless noted.
/// PIN-carrying commands are not here: they go through `CardSession.transmitSensitive` (see `PINCommands`).
extension CommandAPDU {
    /// SELECT by AID, `00 A4 04 0C Lc AID`: no FCP wanted (P2 must be 04 or 0C on CPS3, §3.2).
    package static func selectApplication(_ aid: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: aid)
    }

    /// SELECT by path from the MF, `00 A4 09 0C Lc 3F00 …`: the path keeps 3F00 or the card says 6A82.
    package static func selectPath(_ pathFromMF: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x09, p2: 0x0C, data: pathFromMF)
    }

    /// SELECT a file in the current DF by FID, `00 A4 02 0C 02 FID`.
    package static func selectFile(_ fid: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: fid)
    }

    /// SELECT a file in the current DF by FID asking for its FCP, `00 A4 02 04 02 FID 00`: the FCP
    /// gives the size (tag 80), so a file is read in the fewest READ BINARY commands.
    package static func selectFileWithFCP(_ fid: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x04, data: fid, expectedLength: 256)
    }

    /// READ BINARY, `00 B0 offHi offLo Le` with Le ≤ 0xE7.
    package static func readBinary(offset: Int, length: Int) -> CommandAPDU {
        precondition(offset >= 0 && offset <= 0x7FFF && (1...CPS3.maxReadLength).contains(length))
        return CommandAPDU(ins: 0xB0, p1: UInt8(offset >> 8), p2: UInt8(offset & 0xFF), expectedLength: length)
    }

    /// READ BINARY by short file identifier, `00 B0 (80|SFI) 00 Le` (EF.SN.ICC: `00 B0 9C 00 00`).
    package static func readBinary(sfi: UInt8, length: Int = 256) -> CommandAPDU {
        CommandAPDU(ins: 0xB0, p1: 0x80 | sfi, p2: 0x00, expectedLength: length)
    }

    /// GET DATA of a CHV SDO's DOCP, `00 CB 3F FF 0A 4D 08 70 06 BF 81 ref 02 A0 80` (§7): the try
    /// counters without any VERIFY. The MF must be the current DF.
    package static func getPINInfo(reference: UInt8) -> CommandAPDU {
        CommandAPDU(
            ins: 0xCB, p1: 0x3F, p2: 0xFF,
            data: [0x4D, 0x08, 0x70, 0x06, 0xBF, 0x81, reference, 0x02, 0xA0, 0x80], expectedLength: 256)
    }

    /// VERIFY without data, `00 20 00 ref`: `63Cx` tries left, `9000` already verified, `6983` blocked.
    /// Costs no try.
    package static func verifyStatus(reference: UInt8) -> CommandAPDU {
        CommandAPDU(ins: 0x20, p1: 0x00, p2: reference)
    }

    /// MSE SET hash template, `00 22 41 AA 03 80 01 alg`.
    package static func mseSetHashTemplate(_ algorithm: IASAlgorithm) -> CommandAPDU {
        CommandAPDU(ins: 0x22, p1: 0x41, p2: 0xAA, data: [0x80, 0x01, algorithm.rawValue])
    }

    /// MSE SET digital signature template, `00 22 41 B6 06 80 01 alg 84 01 key`.
    package static func mseSetSignatureTemplate(_ algorithm: IASAlgorithm, key: UInt8) -> CommandAPDU {
        CommandAPDU(ins: 0x22, p1: 0x41, p2: 0xB6, data: [0x80, 0x01, algorithm.rawValue, 0x84, 0x01, key])
    }

    /// MSE SET authentication template, `00 22 41 A4 06 80 01 02 84 01 key`.
    package static func mseSetAuthenticationTemplate(key: UInt8) -> CommandAPDU {
        CommandAPDU(ins: 0x22, p1: 0x41, p2: 0xA4, data: [0x80, 0x01, IASAlgorithm.rsaPKCS1.rawValue, 0x84, 0x01, key])
    }

    /// PSO HASH, `00 2A 90 A0 Lc 90 L state‖bitcount 80 n tail` (§6.1): the card finishes the hash.
    /// With nothing hashed on the host, the state part is `90 00`.
    package static func psoHash(intermediateState: [UInt8]?, bitCount: UInt64, tail: [UInt8]) -> CommandAPDU {
        precondition(tail.count <= 64)
        var data: [UInt8] = [0x90]
        if let state = intermediateState {
            data.append(UInt8(state.count + 8))
            data += state
            data += (0..<8).reversed().map { UInt8(truncatingIfNeeded: bitCount >> (8 * UInt64($0))) }
        } else {
            data.append(0x00)
        }
        data += [0x80, UInt8(tail.count)] + tail
        return CommandAPDU(ins: 0x2A, p1: 0x90, p2: 0xA0, data: data)
    }

    /// PSO HASH with a hash the host computed completely, `00 2A 90 A0 Lc 90 L hash` (§6.2).
    package static func psoHash(completeDigest digest: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0x2A, p1: 0x90, p2: 0xA0, data: [0x90, UInt8(digest.count)] + digest)
    }

    /// PSO COMPUTE DIGITAL SIGNATURE, `00 2A 9E 9A 00`: 256 bytes for RSA-2048.
    package static func psoComputeDigitalSignature() -> CommandAPDU {
        CommandAPDU(ins: 0x2A, p1: 0x9E, p2: 0x9A, expectedLength: 256)
    }

    /// INTERNAL AUTHENTICATE, `00 88 00 00 Lc data 00` (§6.3): the card pads `data` (a DigestInfo) with
    /// PKCS#1 v1.5 type 1 and signs with the key set by MSE SET AT.
    package static func internalAuthenticate(_ data: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0x88, p1: 0x00, p2: 0x00, data: data, expectedLength: 256)
    }

    /// GET CHALLENGE, `00 84 00 00 08`.
    package static func getChallenge(length: Int = 8) -> CommandAPDU {
        CommandAPDU(ins: 0x84, p1: 0x00, p2: 0x00, expectedLength: length)
    }
}
