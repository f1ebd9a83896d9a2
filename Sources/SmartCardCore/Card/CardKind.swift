/// What kind of CPx card an ATR announces (reference `cps3-card.md` §2). Cryptolib compares exact ATR
/// bytes; OpenSC masks the CPS3 contact ATR. We accept the exact known ATRs and the OpenSC mask, so a
/// card with a new batch byte is still recognised.
package enum CardKind: String, Sendable, Hashable, Codable, CaseIterable {
    case cps3Contact = "CPS3"
    case cps3Contactless = "CPS3-CL"
    case cps4 = "CPS4"
    case unknown

    package init(atr: [UInt8]) {
        // The exact CPS4 ATRs first: the T=0-only one (3B DC 18 FF …) also passes OpenSC's CPS3 mask.
        if Self.cps4ATRs.contains(atr) {
            self = .cps4
        } else if atr == Self.cps3ContactATR || Self.matches(atr, Self.cps3ContactATR, mask: Self.cps3ContactMask)
            || atr == Self.cpsOtherATR
        {
            self = .cps3Contact
        } else if atr == Self.cps3ContactlessATR {
            self = .cps3Contactless
        } else {
            self = .unknown
        }
    }

    /// Human-readable name for CLI output.
    package var displayName: String {
        switch self {
        case .cps3Contact: "CPS3 (IAS-ECC, contact)"
        case .cps3Contactless: "CPS3 (contactless)"
        case .cps4: "CPS4"
        case .unknown: "unknown card"
        }
    }

    package var isCPx: Bool { self != .unknown }

    // MARK: - Known ATRs (cps3-card.md §2)

    /// CPS3 contact, T=0 only.
    package static let cps3ContactATR: [UInt8] = [
        0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90, 0x00,
    ]
    /// OpenSC's mask for the CPS3 contact ATR (card-iasecc.c).
    static let cps3ContactMask: [UInt8] = [
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
    ]
    /// Another CPS ATR listed in pcsc-tools' smartcard_list.txt.
    static let cpsOtherATR: [UInt8] = [
        0x3B, 0xAC, 0x00, 0x40, 0x2A, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x82, 0x02, 0x12, 0x00, 0x90, 0x00,
    ]
    package static let cps3ContactlessATR: [UInt8] = [
        0x3B, 0x8F, 0x80, 0x01, 0x00, 0x31, 0xB8, 0x64, 0x04, 0xB0, 0xEC, 0xC1, 0x73, 0x94, 0x01, 0x80, 0x82, 0x90,
        0x00, 0x0E,
    ]
    static let cps4ATRs: [[UInt8]] = [
        [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44],
        [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x44],
        [0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x00],
    ]

    private static func matches(_ atr: [UInt8], _ reference: [UInt8], mask: [UInt8]) -> Bool {
        guard atr.count == reference.count else { return false }
        return zip(zip(atr, reference), mask).allSatisfy { pair, m in pair.0 & m == pair.1 & m }
    }
}
