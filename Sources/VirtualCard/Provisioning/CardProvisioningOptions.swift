import ErrorShape
package import Foundation
import SmartCardCore

/// What a new virtual card is made of. The defaults give a usable card: the PSC test identity, PIN "1234",
/// PUK "12345678" (reference `cps3-card.md` §15), full try counters, certificates valid from yesterday for
/// three years. Expired, not-yet-valid, soon-expiring or blocked cards are made by changing the fields.
package struct CardProvisioningOptions: Sendable {
    package var holder: HolderProfile
    /// Ten decimal digits; `nil` draws ten random digits.
    package var serial: String?
    /// The cardholder PIN: exactly 4 ASCII digits.
    package var pin: [UInt8]
    /// The unblocking code: exactly 8 ASCII digits.
    package var puk: [UInt8]
    /// Start of the certificates' validity; `nil` means now minus one day.
    package var notBefore: Date?
    /// End of the certificates' validity; `nil` means now plus three years (reference §14.2).
    package var notAfter: Date?
    /// Tries left on each code, 0 (blocked) through 3 (the card's maximum).
    package var pinTriesLeft: Int
    package var pukTriesLeft: Int
    /// Unblocks allowed over the card's life, and still allowed (`nil` means all of them).
    package var unblocksMax: Int
    package var unblocksLeft: Int?
    /// CPS3 (default) or CPS4, and a CPS4's ATR (nil: the T=0/T=1 one).
    package var generation: CardGeneration = .cps3
    package var cps4ATR: CPS4ATRVariant?

    package init(
        holder: HolderProfile = .testDefault,
        serial: String? = nil,
        pin: [UInt8] = Array("1234".utf8),
        puk: [UInt8] = Array("12345678".utf8),
        notBefore: Date? = nil,
        notAfter: Date? = nil,
        pinTriesLeft: Int = 3,
        pukTriesLeft: Int = 3,
        unblocksMax: Int = 10,
        unblocksLeft: Int? = nil
    ) {
        self.holder = holder
        self.serial = serial
        self.pin = pin
        self.puk = puk
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.pinTriesLeft = pinTriesLeft
        self.pukTriesLeft = pukTriesLeft
        self.unblocksMax = unblocksMax
        self.unblocksLeft = unblocksLeft
    }

    /// The maximum tries of the PIN and the PUK on a CPS3 (reference §1, §7).
    package static let maxTries = 3
    package static let pinLength = 4
    package static let pukLength = 8
    package static let serialLength = 10
    /// Default certificate lifetime: three years, as observed on real CPS3 certificates (reference §14.2).
    package static let defaultValidity: TimeInterval = 3 * 365 * 24 * 3600

    /// The validity window these options give, resolved against `now` and cut to whole seconds
    /// (X.509 times carry no fractions).
    package func validity(now: Date = Date()) -> (notBefore: Date, notAfter: Date) {
        let start = notBefore ?? now.addingTimeInterval(-24 * 3600)
        let end = notAfter ?? now.addingTimeInterval(Self.defaultValidity)
        return (Self.wholeSeconds(start), Self.wholeSeconds(end))
    }

    /// Checks every rule; throws the first violation found.
    package func validate(now: Date = Date()) throws(CardProvisioningError) {
        try Self.requireDigits(pin, count: Self.pinLength, code: .invalidPIN, name: "PIN")
        try Self.requireDigits(puk, count: Self.pukLength, code: .invalidPUK, name: "PUK")
        if let serial {
            try Self.requireDigits(Array(serial.utf8), count: Self.serialLength, code: .invalidSerial, name: "serial")
        }
        try validateHolder()
        for (name, tries) in [("PIN", pinTriesLeft), ("PUK", pukTriesLeft)] where !(0...Self.maxTries).contains(tries) {
            throw CardProvisioningError(
                .invalidTryCounter, "\(name) tries left must be in 0...\(Self.maxTries), got \(tries)")
        }
        guard unblocksMax >= 0 else {
            throw CardProvisioningError(.invalidUnblockCounter, "unblocksMax must not be negative, got \(unblocksMax)")
        }
        if let unblocksLeft, !(0...unblocksMax).contains(unblocksLeft) {
            throw CardProvisioningError(
                .invalidUnblockCounter, "unblocksLeft must be in 0...\(unblocksMax), got \(unblocksLeft)")
        }
        let window = validity(now: now)
        guard window.notBefore < window.notAfter else {
            throw CardProvisioningError(
                .invalidValidity, "notBefore \(window.notBefore) must be before notAfter \(window.notAfter)")
        }
    }

    private func validateHolder() throws(CardProvisioningError) {
        let idNat = Array(holder.idNat.utf8)
        guard !idNat.isEmpty, idNat.allSatisfy(Self.isDigit) else {
            throw CardProvisioningError(.invalidIdNat, "idNat must be decimal digits only, got \"\(holder.idNat)\"")
        }
        let names = [("givenName", holder.givenName), ("surname", holder.surname), ("profession", holder.profession)]
        for (name, value) in names where value.isEmpty {
            throw CardProvisioningError(.invalidHolder, "holder \(name) must not be empty")
        }
    }

    private static func requireDigits(
        _ value: [UInt8], count: Int, code: CardProvisioningError.Code, name: String
    ) throws(CardProvisioningError) {
        guard value.count == count, value.allSatisfy(isDigit) else {
            throw CardProvisioningError(code, "\(name) must be exactly \(count) ASCII digits (got \(value.count) bytes)")
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    private static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}

/// Why a card could not be provisioned.
package struct CardProvisioningError: CodedError {
    package enum Code: String, ErrorCode {
        case invalidPIN
        case invalidPUK
        case invalidSerial
        case invalidIdNat
        case invalidHolder
        case invalidTryCounter
        case invalidUnblockCounter
        case invalidValidity
        /// The test PKI material could not be read (a corrupted build).
        case invalidTestPKI
        /// Key generation or certificate signing failed.
        case issuanceFailed
    }

    package var code: Code
    package var reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

}
