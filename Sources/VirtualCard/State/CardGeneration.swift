import SmartCardCore

/// Which card a virtual card is: a CPS3 (IAS-ECC, reference `cps3-card.md`) or a CPS4 (NXP ChipDoc,
/// reference `cps4-card.md`). Saved in `CardState`; a state saved before CPS4 existed has none and is a CPS3.
package enum CardGeneration: String, Codable, Sendable, Hashable, CaseIterable {
    case cps3
    case cps4
}

/// Which of the CPS4 ATRs a virtual CPS4 gives (cps4-card.md §2). Both are byte-for-byte the ones Cryptolib
/// accepts.
package enum CPS4ATRVariant: String, Codable, Sendable, Hashable, CaseIterable {
    /// `3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44`: offers T=0 and T=1 (pcscd then picks T=1).
    case t0t1
    /// `3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00`: T=0 only (Cryptolib 5.2 "second CPS4 ATR").
    case t0

    package var bytes: [UInt8] {
        switch self {
        case .t0t1:
            [0x3B, 0x9B, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44]
        case .t0:
            [0x3B, 0xDC, 0x18, 0xFF, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x00]
        }
    }
}

extension CardState {
    /// The generation, CPS3 when the state does not say (states saved before CPS4 existed).
    package var cardGeneration: CardGeneration { generation ?? .cps3 }

    /// The ATR the card gives at power-on and reset.
    package var answerToReset: [UInt8] {
        switch cardGeneration {
        case .cps3: CardKind.cps3ContactATR
        case .cps4: (cps4ATR ?? .t0t1).bytes
        }
    }

    /// The TokenInfo label: `CPS3v3-<serial>` or `CPS4v1-<serial>` (cryptolib-pkcs11.md §3).
    package var tokenLabel: String {
        (cardGeneration == .cps4 ? "CPS4v1-" : "CPS3v3-") + serial
    }

    /// This state as the other generation (same keys, certificates and counters): cheap CPS4 test cards.
    package func asGeneration(_ generation: CardGeneration, atr: CPS4ATRVariant? = nil) -> CardState {
        var copy = self
        copy.generation = generation
        copy.cps4ATR = generation == .cps4 ? atr : nil
        return copy
    }
}
