package import SmartCardCore

/// PIN_VERIFY_STRUCTURE (PC/SC part 10 v2.02.09 §2.5.2; pcsc-lite's reader.h), the input of
/// FEATURE_VERIFY_PIN_DIRECT: how the reader formats the digits it collects into the VERIFY it sends. The
/// 16- and 32-bit fields are in the host's order (little-endian here), as CCID drivers read them.
enum PINVerifyStructure {
    /// bmFormatString: lengths in bytes (bit 7), the digits from the start of the data field (position 0),
    /// left-justified, ASCII (bits 1-0 = 10): a CPS takes its code as ASCII digits with no padding.
    static let asciiFromDataStart: UInt8 = 0x82
    /// bEntryValidationCondition: the person presses the reader's OK key.
    static let validationKeyPressed: UInt8 = 0x02

    static func bytes(for verify: PINPadVerify) -> [UInt8] {
        // The APDU the reader completes: header, and an Lc it replaces with the number of digits typed
        // (bmPINBlockString 0, bmPINLengthFormat 0: no block size, no length field inside the data).
        let apdu = verify.header + [0x00]
        var bytes: [UInt8] = [
            verify.timeout, verify.timeout,  // bTimerOut, bTimerOut2
            asciiFromDataStart, 0x00, 0x00,  // bmFormatString, bmPINBlockString, bmPINLengthFormat
            UInt8(clamping: verify.maxDigits), UInt8(clamping: verify.minDigits),  // wPINMaxExtraDigit: min << 8 | max
            validationKeyPressed,
            0x01,  // bNumberMessage: the reader's default prompt
            0x09, 0x04,  // wLangId 0x0409
            0x00,  // bMsgIndex
            0x00, 0x00, 0x00,  // bTeoPrologue
        ]
        let length = UInt32(apdu.count)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }  // ulDataLength
        return bytes + apdu
    }
}
