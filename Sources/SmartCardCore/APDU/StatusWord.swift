/// The two trailer bytes SW1 SW2 of a response APDU (ISO/IEC 7816-4 §5.6).
///
/// Named constants cover the words a CPS3 card uses (reference `cps3-card.md` §8); anything else is still
/// representable, so an unexpected word from a card is carried, never dropped.
package struct StatusWord: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt16

    package init(rawValue: UInt16) { self.rawValue = rawValue }
    package init(sw1: UInt8, sw2: UInt8) { self.rawValue = UInt16(sw1) << 8 | UInt16(sw2) }

    package var sw1: UInt8 { UInt8(rawValue >> 8) }
    package var sw2: UInt8 { UInt8(rawValue & 0xFF) }

    package static let success = StatusWord(rawValue: 0x9000)
    /// 6282: end of file reached before Le bytes were read.
    package static let endOfFileReached = StatusWord(rawValue: 0x6282)
    package static let wrongLength = StatusWord(rawValue: 0x6700)
    package static let securityStatusNotSatisfied = StatusWord(rawValue: 0x6982)
    package static let authenticationMethodBlocked = StatusWord(rawValue: 0x6983)
    package static let referenceDataNotUsable = StatusWord(rawValue: 0x6984)
    package static let conditionsOfUseNotSatisfied = StatusWord(rawValue: 0x6985)
    package static let incorrectData = StatusWord(rawValue: 0x6A80)
    package static let fileNotFound = StatusWord(rawValue: 0x6A82)
    package static let incorrectP1P2 = StatusWord(rawValue: 0x6A86)
    package static let referencedDataNotFound = StatusWord(rawValue: 0x6A88)
    package static let wrongOffset = StatusWord(rawValue: 0x6B00)
    package static let instructionNotSupported = StatusWord(rawValue: 0x6D00)
    package static let classNotSupported = StatusWord(rawValue: 0x6E00)
    package static let noPreciseDiagnosis = StatusWord(rawValue: 0x6F00)

    /// 61xx: T=0 says `xx` response bytes wait for a GET RESPONSE (xx = 00 means 256).
    package static func bytesAvailable(_ count: UInt8) -> StatusWord { StatusWord(sw1: 0x61, sw2: count) }
    /// 6Cxx: wrong Le; re-send the same command with Le = xx.
    package static func wrongLe(exact: UInt8) -> StatusWord { StatusWord(sw1: 0x6C, sw2: exact) }
    /// 63Cx: verification failed (or VERIFY-status answer), x tries left.
    package static func verificationFailed(triesLeft: Int) -> StatusWord {
        StatusWord(sw1: 0x63, sw2: 0xC0 | UInt8(clamping: min(max(triesLeft, 0), 15)))
    }

    package var isSuccess: Bool { rawValue == 0x9000 }

    /// The count of a 61xx word (256 for 6100), or nil for any other word.
    package var bytesAvailableCount: Int? { sw1 == 0x61 ? (sw2 == 0 ? 256 : Int(sw2)) : nil }

    /// The exact Le of a 6Cxx word (256 for 6C00), or nil for any other word.
    package var exactLength: Int? { sw1 == 0x6C ? (sw2 == 0 ? 256 : Int(sw2)) : nil }

    /// The tries left of a 63Cx word, or nil for any other word.
    package var triesLeft: Int? { sw1 == 0x63 && sw2 & 0xF0 == 0xC0 ? Int(sw2 & 0x0F) : nil }

    package var description: String { Hex.string(from: [sw1, sw2], separator: "") }
}
