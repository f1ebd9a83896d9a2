package import PKCS11Constants

/// The Swift shapes of PKCS#11's structures: the C layer only converts them.

/// CK_INFO.
package struct LibraryInfo: Sendable, Hashable {
    package var cryptokiVersion: (major: UInt8, minor: UInt8) { (2, 40) }
    package var manufacturerID = "cpsd"
    package var flags: UInt = 0
    package var libraryDescription = "cpsd CPS3 PKCS#11 (p11-kit)"
    package var libraryVersion: (major: UInt8, minor: UInt8) { (0, 1) }
}

/// CK_SLOT_INFO.
package struct SlotInfo: Sendable, Hashable {
    package var slotDescription: String
    package var manufacturerID: String
    package var flags: UInt
}

/// CK_TOKEN_INFO. Memory sizes are CK_UNAVAILABLE_INFORMATION; the time is empty (no clock).
package struct TokenInfo: Sendable, Hashable {
    package var label: String
    package var manufacturerID: String
    package var model: String
    package var serialNumber: String
    package var flags: UInt
    /// CK_EFFECTIVELY_INFINITE (0).
    package var maxSessionCount: UInt = 0
    package var sessionCount: UInt
    package var maxRWSessionCount: UInt = 0
    package var rwSessionCount: UInt
    package var maxPINLength: UInt
    package var minPINLength: UInt
    package var totalPublicMemory: UInt = unavailableInformation
    package var freePublicMemory: UInt = unavailableInformation
    package var totalPrivateMemory: UInt = unavailableInformation
    package var freePrivateMemory: UInt = unavailableInformation
}

/// CK_SESSION_INFO.
package struct SessionInfo: Sendable, Hashable {
    package var slotID: SlotID
    package var state: UInt
    package var flags: UInt
    package var deviceError: UInt = 0
}

/// CK_MECHANISM_INFO.
package struct MechanismInfo: Sendable, Hashable {
    package var minKeySize: UInt
    package var maxKeySize: UInt
    package var flags: UInt
    package init(minKeySize: UInt, maxKeySize: UInt, flags: UInt) {
        self.minKeySize = minKeySize
        self.maxKeySize = maxKeySize
        self.flags = flags
    }
}

/// CK_MECHANISM.
package struct Mechanism: Sendable, Hashable {
    package var type: CKM
    package var parameter: [UInt8]?
    package init(type: CKM, parameter: [UInt8]? = nil) {
        self.type = type
        self.parameter = parameter
    }
}

/// One CK_ATTRIBUTE of a search template.
package struct Attribute: Sendable, Hashable {
    package var type: CKA
    package var value: [UInt8]
    package init(type: CKA, value: [UInt8]) {
        self.type = type
        self.value = value
    }
}

/// One CK_ATTRIBUTE of C_GetAttributeValue: the type and the caller's buffer size (nil: NULL pValue).
package struct AttributeRequest: Sendable, Hashable {
    package var type: CKA
    package var capacity: Int?
    package init(type: CKA, capacity: Int?) {
        self.type = type
        self.capacity = capacity
    }
}

/// What C_GetAttributeValue says about one attribute.
package enum AttributeResult: Sendable, Hashable {
    /// Copy these bytes; ulValueLen = count.
    case value([UInt8])
    /// NULL pValue: ulValueLen = the length.
    case length(Int)
    /// ulValueLen = CK_UNAVAILABLE_INFORMATION, for CKR_ATTRIBUTE_SENSITIVE.
    case sensitive
    /// ulValueLen = CK_UNAVAILABLE_INFORMATION, for CKR_ATTRIBUTE_TYPE_INVALID.
    case invalidType
    /// ulValueLen = CK_UNAVAILABLE_INFORMATION, for CKR_BUFFER_TOO_SMALL.
    case bufferTooSmall
}

extension [AttributeResult] {
    /// The call's return value. Several categories may apply; PKCS#11 2.40 §5.7 lets the token return
    /// any of them: sensitive first, then invalid type, then buffer too small.
    package var returnValue: CKR {
        if contains(.sensitive) { return .attributeSensitive }
        if contains(.invalidType) { return .attributeTypeInvalid }
        if contains(.bufferTooSmall) { return .bufferTooSmall }
        return .ok
    }
}

/// An output buffer's outcome (C_Sign, C_SignFinal, lists).
package enum OutputResult: Sendable, Hashable {
    /// Copy these bytes; CKR_OK.
    case value([UInt8])
    /// NULL output: only the length; CKR_OK.
    case length(Int)
    /// The buffer is too small: set the length, return CKR_BUFFER_TOO_SMALL.
    case bufferTooSmall(Int)
}

/// Who is on the other end of a connection (SO_PEERCRED), for audit.
package struct PeerInfo: Sendable, Hashable, CustomStringConvertible {
    package var pid: Int32
    package var uid: UInt32
    package var gid: UInt32
    /// /proc/<pid>/exe, when readable.
    package var executable: String?
    package init(pid: Int32, uid: UInt32, gid: UInt32, executable: String?) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.executable = executable
    }
    package var description: String { "pid \(pid) uid \(uid) (\(executable ?? "?"))" }
}

/// One C_Sign/C_SignFinal outcome, for the audit hook. Never carries a PIN or the data signed.
package struct SignAudit: Sendable, Hashable {
    package var client: ClientID
    package var peer: PeerInfo?
    package var slot: SlotID
    package var keyLabel: String
    package var mechanism: CKM
    package var result: CKR
}
