import PCSC
import Testing

/// CM_IOCTL_GET_FEATURE_REQUEST answers (PC/SC part 10 §2.2), as byte vectors: tag, length 4, big-endian
/// control code.
@Suite("Reader features (PC/SC part 10 TLV)")
struct ReaderFeaturesTests {
    /// What a CCID PIN-pad reader's driver (libccid) typically lists: verify and modify direct, PIN
    /// properties, TLV properties and the CCID escape, each with pcsc-lite's SCARD_CTL_CODE(3400 + tag).
    static let pinPadReader: [UInt8] = [
        0x06, 0x04, 0x42, 0x00, 0x0D, 0x4E,  // FEATURE_VERIFY_PIN_DIRECT → 0x42000D4E
        0x07, 0x04, 0x42, 0x00, 0x0D, 0x4F,  // FEATURE_MODIFY_PIN_DIRECT
        0x0A, 0x04, 0x42, 0x00, 0x0D, 0x52,  // FEATURE_IFD_PIN_PROPERTIES
        0x12, 0x04, 0x42, 0x00, 0x0D, 0x5A,  // FEATURE_GET_TLV_PROPERTIES
        0x13, 0x04, 0x42, 0x00, 0x0D, 0x5B,  // FEATURE_CCID_ESC_COMMAND
    ]

    @Test("a PIN-pad reader: verify direct found with its control code")
    func pinPad() throws {
        let features = try ReaderFeatures(tlv: Self.pinPadReader)
        #expect(features.hasPINPad)
        #expect(features.contains(.verifyPINDirect))
        #expect(features.contains(.modifyPINDirect))
        #expect(!features.contains(.verifyPINStart))
        #expect(features.controlCodes[ReaderFeatures.Feature.verifyPINDirect.rawValue] == 0x4200_0D4E)
        #expect(features.controlCodes.count == 5)
        #expect(features.pinPadDescription == "verify direct, modify")
    }

    @Test("verify start/finish alone is a PIN pad too")
    func startFinish() throws {
        let features = try ReaderFeatures(tlv: [0x01, 0x04, 0x42, 0x00, 0x0D, 0x49, 0x02, 0x04, 0x42, 0x00, 0x0D, 0x4A])
        #expect(features.hasPINPad)
        #expect(features.pinPadDescription == "verify start/finish")
    }

    @Test("no feature, or only non-PIN ones: no PIN pad")
    func noPINPad() throws {
        #expect(try ReaderFeatures(tlv: []).hasPINPad == false)
        #expect(try ReaderFeatures(tlv: []) == ReaderFeatures())
        let escapeOnly = try ReaderFeatures(tlv: [0x13, 0x04, 0x42, 0x00, 0x0D, 0x5B, 0x12, 0x04, 0x42, 0x00, 0x0D, 0x5A])
        #expect(!escapeOnly.hasPINPad)
        #expect(escapeOnly.pinPadDescription.isEmpty)
    }

    @Test("an unknown tag is kept by number, and does not hide the known ones after it")
    func unknownTag() throws {
        let features = try ReaderFeatures(tlv: [0x7E, 0x04, 0x01, 0x02, 0x03, 0x04, 0x06, 0x04, 0x42, 0x00, 0x0D, 0x4E])
        #expect(features.controlCodes[0x7E] == 0x0102_0304)
        #expect(features.hasPINPad)
    }

    @Test(
        "malformed lists are refused, not half read",
        arguments: [
            [0x06] as [UInt8],  // tag without length
            [0x06, 0x04, 0x42, 0x00, 0x0D],  // value cut short
            [0x06, 0x02, 0x0D, 0x4E],  // length not 4
            [0x13, 0x04, 0x42, 0x00, 0x0D, 0x5B, 0x06, 0x04, 0x42],  // second entry cut
        ])
    func malformed(_ bytes: [UInt8]) {
        #expect(throws: ReaderFeatureError.self) { try ReaderFeatures(tlv: bytes) }
    }
}
