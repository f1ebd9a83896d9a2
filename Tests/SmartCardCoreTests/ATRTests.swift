import SmartCardCore
import Testing

@Suite("ATR parsing and card recognition")
struct ATRTests {
    @Test("the CPS3 contact ATR offers T=0 only, with 12 historical bytes")
    func cps3Contact() throws {
        let atr = try ATR(bytes: CardKind.cps3ContactATR)
        #expect(atr.protocols == [0])
        #expect(atr.isT0Only)
        #expect(atr.historicalBytes == [0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90, 0x00])
        #expect(CardKind(atr: atr.bytes) == .cps3Contact)
    }

    @Test("the contactless and CPS4 ATRs are told apart, anything else is unknown")
    func kinds() throws {
        #expect(CardKind(atr: CardKind.cps3ContactlessATR) == .cps3Contactless)
        let cps4: [UInt8] = [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44]
        #expect(CardKind(atr: cps4) == .cps4)
        #expect(try ATR(bytes: cps4).protocols.contains(1))
        // The T=0-only CPS4 ATR also passes OpenSC's CPS3 mask: it must still be a CPS4 (cps4-card.md §2).
        let cps4T0: [UInt8] = [0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x00]
        #expect(CardKind(atr: cps4T0) == .cps4)
        #expect(try ATR(bytes: cps4T0).isT0Only)
        #expect(CardKind(atr: [0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B]) == .unknown)
    }

    @Test("a CPS3 ATR with other batch bytes still matches OpenSC's mask")
    func mask() {
        var atr = CardKind.cps3ContactATR
        atr[2] = 0x11
        atr[12] = 0x04
        #expect(CardKind(atr: atr) == .cps3Contact)
        atr[5] = 0x01  // a byte the mask keeps
        #expect(CardKind(atr: atr) == .unknown)
    }

    @Test("truncated or foreign ATRs are typed errors", arguments: [
        [] as [UInt8], [0x3B], [0x12, 0x00], [0x3B, 0x8F, 0x80], [0x3B, 0x05, 0x01, 0x02],
    ])
    func malformed(bytes: [UInt8]) {
        #expect(throws: ATRFormatError.self) { try ATR(bytes: bytes) }
    }
}
