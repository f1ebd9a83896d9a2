import ErrorShape
import SmartCardCore

/// What a reader says it can do beyond APDUs, from CM_IOCTL_GET_FEATURE_REQUEST (PC/SC part 10 v2.02.09
/// §2.2): a list of TLV entries, each a one-byte feature tag, a length byte (4) and the big-endian control
/// code that drives the feature. A reader whose driver knows no feature (vpcd, most contactless readers)
/// answers with an empty list or refuses the request.
package struct ReaderFeatures: Equatable, Sendable {
    /// PC/SC part 10 feature tags (pcsc-lite's reader.h spells the same values).
    package enum Feature: UInt8, CaseIterable, Sendable {
        case verifyPINStart = 0x01
        case verifyPINFinish = 0x02
        case modifyPINStart = 0x03
        case modifyPINFinish = 0x04
        case getKeyPressed = 0x05
        case verifyPINDirect = 0x06
        case modifyPINDirect = 0x07
        case mctReaderDirect = 0x08
        case mctUniversal = 0x09
        case ifdPINProperties = 0x0A
        case abort = 0x0B
        case setSPEMessage = 0x0C
        case verifyPINDirectAppID = 0x0D
        case modifyPINDirectAppID = 0x0E
        case writeDisplay = 0x0F
        case getKey = 0x10
        case ifdDisplayProperties = 0x11
        case getTLVProperties = 0x12
        case ccidEscCommand = 0x13
        case executePACE = 0x20
    }

    /// Each advertised feature's control code. Unknown tags are kept by number (a newer reader's features).
    package let controlCodes: [UInt8: UInt32]

    package init(controlCodes: [UInt8: UInt32] = [:]) { self.controlCodes = controlCodes }

    /// Parses the answer. A truncated entry, or one whose length is not 4, is a malformed answer: the
    /// reader's list cannot be trusted past it, so nothing is returned for it.
    package init(tlv bytes: [UInt8]) throws(ReaderFeatureError) {
        var codes: [UInt8: UInt32] = [:]
        var index = 0
        while index < bytes.count {
            guard index + 2 <= bytes.count else {
                throw ReaderFeatureError(.malformed, "entry cut after its tag", offset: index)
            }
            let tag = bytes[index]
            let length = Int(bytes[index + 1])
            guard length == 4 else {
                throw ReaderFeatureError(.malformed, "feature 0x\(hex(tag)) has length \(length), not 4", offset: index)
            }
            guard index + 2 + length <= bytes.count else {
                throw ReaderFeatureError(.malformed, "feature 0x\(hex(tag)) is cut short", offset: index)
            }
            let value = bytes[(index + 2)..<(index + 6)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            codes[tag] = value
            index += 2 + length
        }
        controlCodes = codes
    }

    package func contains(_ feature: Feature) -> Bool { controlCodes[feature.rawValue] != nil }

    /// A PIN pad: the reader can take the PIN on its own keypad and send the VERIFY itself (direct or
    /// in the start/finish pair), so the PIN never crosses the computer.
    package var hasPINPad: Bool { contains(.verifyPINDirect) || contains(.verifyPINStart) }

    /// The PIN-related features present, named for a person.
    package var pinPadDescription: String {
        var parts: [String] = []
        if contains(.verifyPINDirect) { parts.append("verify direct") }
        if contains(.verifyPINStart) { parts.append("verify start/finish") }
        if contains(.modifyPINDirect) || contains(.modifyPINStart) { parts.append("modify") }
        return parts.joined(separator: ", ")
    }
}

/// A reader's answer to CM_IOCTL_GET_FEATURE_REQUEST that is not a list of 6-byte TLV entries.
package struct ReaderFeatureError: CodedError {
    package enum Code: String, ErrorCode {
        case malformed = "malformed feature list"
    }
    package let code: Code
    package let reason: String
    /// Where in the answer the entry that does not parse starts.
    package let offset: Int
    init(_ code: Code, _ reason: String, offset: Int) {
        self.code = code
        self.reason = reason
        self.offset = offset
    }
    package var description: String { "\(code) at byte \(offset): \(reason)" }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
