package import Foundation

/// One paired extension as `bridge-pairings.json` keeps it: never the token, only its digest.
package struct PairingRecord: Codable, Sendable, Hashable {
    package var origin: String
    package var tokenSHA256: String
    package var created: Date

    package init(origin: String, tokenSHA256: String, created: Date) {
        self.origin = origin
        self.tokenSHA256 = tokenSHA256
        self.created = created
    }
}
