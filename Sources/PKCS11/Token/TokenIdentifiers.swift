import SmartCardCore

/// Where the PIN of an operation comes from, which decides what the card service may do with it.
package enum PINOrigin: Sendable, Hashable {
    /// Kept by the client since its C_Login: sent again only while that login provably still holds.
    case keptSinceLogin
    /// Typed by the user for this one operation (the bridge's PIN dialog): verified once, then forgotten.
    case typedForThisOperation
}

/// Who is calling: one per p11-kit connection (or per in-process user).
package struct ClientID: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt64
    package init(_ rawValue: UInt64) { self.rawValue = rawValue }
    package var description: String { "client#\(rawValue)" }
}

/// A PKCS#11 slot ID (CK_SLOT_ID). Stable for a reader name for the daemon's life.
package typealias SlotID = UInt

package enum UserType: Sendable, Hashable {
    /// CKU_USER: the cardholder PIN.
    case user
    /// CKU_SO: the unblocking code (PUK), as Cryptolib exposes it.
    case securityOfficer
}
