import SmartCardCore
import SwiftASN1
import Testing
import VirtualCard

@Suite struct SimulatorFileTests {
    static func path(_ fid: UInt16) -> [UInt8] { [0x3F, 0x00, 0x00, 0x01, UInt8(fid >> 8), UInt8(fid & 0xFF)] }

    @Test func selectRules() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 A4 04 00 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10").statusWord == .incorrectP1P2)
        #expect(try session.send("00 A4 09 00 06 3F 00 00 01 50 32").statusWord == .incorrectP1P2)
        #expect(try session.send("00 A4 09 0C 04 00 01 50 32").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 09 0C 02 D0 10").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 09 0C 04 3F 00 D0 10").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 00 0C 02 D0 10").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 20").statusWord == .fileNotFound)
        #expect(try session.send("00 A4 09 0C 06 3F 00 00 01 50 32").statusWord == .success)
        #expect(try session.send("00 A4 00 0C 02 3F 00").statusWord == .success)
        #expect(try session.send("00 A4 02 0C 02 D0 03").statusWord == .success)
        #expect(try session.send("00 A4 02 0C 02 00 01").statusWord == .fileNotFound)  // a DF, not an EF
    }

    @Test func selectReturnsFCP() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let ef = try session.send("00 A4 09 04 04 3F 00 D0 03")
        #expect(ef.statusWord == .success)
        // The real card's bytes (cps4-card.md §14.2).
        #expect(ef.data == bytes("62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 9C 07 7B FF FF FF FF FF 00 8A 01 05"))
        let df = try session.send("00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")
        #expect(df.statusWord == .success)
        #expect(df.data.starts(with: [0x62]))
        #expect(df.data.contains(0x84))
        #expect(try session.send("00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10").data.isEmpty)
    }

    @Test func mfFilesHaveTheirReferenceContent() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let serialNumber = try session.send("00 B0 9C 00 00")
        #expect(serialNumber.statusWord == .success)
        // Reference §3.2: ...99213845 gives the Luhn digit 0 and the F pad.
        #expect(serialNumber.data == bytes("5A 0A 80 25 00 00 01 99 21 38 45 0F"))
        let atr = try session.readFile(path: [0x3F, 0x00, 0x2F, 0x01])
        #expect(atr.count == 57)
        #expect(atr.starts(with: bytes("80 43 01 B8")))
        let dir = try session.readFile(path: [0x3F, 0x00, 0x2F, 0x00])
        #expect(dir.starts(with: bytes("61 1E 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 07")))
    }

    @Test func readBinaryLimits() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.send("00 B0 00 00 10").statusWord == StatusWord(rawValue: 0x6986))
        #expect(try session.send("00 A4 09 0C 04 3F 00 D0 03").statusWord == .success)
        #expect(try session.send("00 B0 00 00 E8").statusWord == .wrongLength)
        #expect(try session.send("00 B0 00 0C 01").statusWord == .wrongOffset)
        #expect(try session.send("00 B0 01 00 01").statusWord == .wrongOffset)
        let short = try session.send("00 B0 00 08 10")
        #expect(short.statusWord == .endOfFileReached)
        #expect(short.data == bytes("21 38 45 0F"))
        let exact = try session.send("00 B0 00 02 04")
        #expect(exact.statusWord == .success)
        #expect(exact.data == bytes("80 25 00 00"))
        #expect(try session.send("00 B0 00 00 E7").data.count == 12)
    }

    @Test func certificatesReadBackFromTheirEFs() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        #expect(try session.readFile(path: Self.path(0x7011)) == SimulatorFixture.authenticationCertificate)
        #expect(try session.readFile(path: Self.path(0x7012)) == SimulatorFixture.signatureCertificate)
    }

    /// Splits a file made of concatenated DER elements and parses each one with swift-asn1.
    static func parseElements(_ content: [UInt8]) throws -> [ASN1Node] {
        var nodes: [ASN1Node] = []
        var rest = content[...]
        while !rest.isEmpty {
            let start = rest.startIndex
            var length = Int(rest[start + 1])
            var header = 2
            if length & 0x80 != 0 {
                let count = length & 0x7F
                length = rest[(start + 2)..<(start + 2 + count)].reduce(0) { $0 << 8 | Int($1) }
                header += count
            }
            nodes.append(try DER.parse(rest[start..<(start + header + length)]))
            rest = rest[(start + header + length)...]
        }
        return nodes
    }

    @Test func pkcs15FilesAreDER() throws {
        let rig = try SimulatorRig()
        var session = rig.session()
        let odf = try Self.parseElements(try session.readFile(path: Self.path(0x5031)))
        #expect(odf.map(\.identifier.tagNumber) == [0, 4, 7, 8])  // PrKDF, CDF, DODF, AODF
        let tokenInfo = try session.readFile(path: Self.path(0x5032))
        #expect(try Self.parseElements(tokenInfo).count == 1)
        #expect(tokenInfo.containsSubsequence(Array("CPS3v3-\(SimulatorFixture.serial)".utf8)))
        #expect(tokenInfo.containsSubsequence(Array("ASIP SANTE".utf8)))
        let aodf = try session.readFile(path: Self.path(0x7001))
        #expect(try Self.parseElements(aodf).count == 2)  // the PIN, then the PUK (unblockingPin, soPin)
        #expect(aodf.containsSubsequence(Array("Code porteur de la carte CPX".utf8)))
        #expect(aodf.containsSubsequence(bytes("03 02 00 4B 0A 01 01 02 01 08")))
        let prkdf = try session.readFile(path: Self.path(0x7002))
        #expect(try Self.parseElements(prkdf).count == 2)
        #expect(prkdf.containsSubsequence(bytes("04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01")))
        #expect(prkdf.containsSubsequence(bytes("02 02 00 81")))
        #expect(prkdf.containsSubsequence(bytes("02 02 00 82")))
        let cdf = try session.readFile(path: Self.path(0x7005))
        #expect(try Self.parseElements(cdf).count == 2)
        #expect(cdf.containsSubsequence(Array("Certificat de Signature CPS".utf8)))
        #expect(cdf.containsSubsequence(bytes("04 06 3F 00 00 01 70 12")))
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
