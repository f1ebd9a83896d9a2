package import BridgeProtocol
import Crypto
package import Foundation

/// Which extensions may use the bridge: the user confirms each once by typing, in the extension's
/// popup, the code cpsd shows in its own dialog. The bearer token that results is bound to the
/// extension origin that asked; cpsd keeps only its SHA-256, so the file holding the pairings grants
/// nothing if read. Pure: the service persists `paired` and shows the code.
package struct PairingBook: Sendable {
    package struct Pending: Sendable, Hashable {
        package var id: String
        package var code: String
        package var origin: String
        package var expires: Date
        package var attemptsLeft: Int
    }

    /// A paired extension, as stored (`bridge-pairings.json`).
    package typealias Paired = PairingRecord

    package static let lifetime: TimeInterval = 120
    package static let attempts = 3
    package static let maximumPending = 4

    private(set) var pending: [String: Pending] = [:]
    package private(set) var paired: [Paired]

    package init(paired: [Paired] = []) { self.paired = paired }

    /// A new pairing for `origin`, replacing any earlier one of the same origin.
    package mutating func start(origin: String, now: Date) throws(BridgeError) -> Pending {
        pending = pending.filter { $0.value.expires > now && $0.value.origin != origin }
        guard pending.count < Self.maximumPending else {
            throw BridgeError(.rateLimited, "too many pairings in progress")
        }
        let entry = Pending(
            id: Self.randomHex(bytes: 16), code: String(format: "%06u", UInt32.random(in: 0..<1_000_000)),
            origin: origin, expires: now.addingTimeInterval(Self.lifetime), attemptsLeft: Self.attempts)
        pending[entry.id] = entry
        return entry
    }

    /// Checks the typed code; on success returns the new bearer token (shown once, never stored).
    package mutating func finish(id: String, code: String, origin: String, now: Date) throws(BridgeError) -> String {
        guard var entry = pending[id], entry.origin == origin, entry.expires > now else {
            pending[id] = nil
            throw BridgeError(.pairingRefused, "no such pairing in progress (expired or from another extension)")
        }
        guard Self.constantTimeEqual(Array(code.utf8), Array(entry.code.utf8)) else {
            entry.attemptsLeft -= 1
            pending[id] = entry.attemptsLeft > 0 ? entry : nil
            throw BridgeError(
                .pairingRefused,
                entry.attemptsLeft > 0 ? "wrong code" : "wrong code; this pairing is void, start again",
                retriesLeft: entry.attemptsLeft)
        }
        pending[id] = nil
        var random = SystemRandomNumberGenerator()
        let token = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64URLEncoded
        paired.removeAll { $0.origin == origin }
        paired.append(Paired(origin: origin, tokenSHA256: Self.digest(token), created: now))
        return token
    }

    /// Whether `token` was issued to `origin` by a pairing.
    package func isPaired(origin: String, token: String?) -> Bool {
        guard let token else { return false }
        let digest = Self.digest(token)
        return paired.contains { $0.origin == origin && Self.constantTimeEqual(Array($0.tokenSHA256.utf8), Array(digest.utf8)) }
    }

    /// The paired extensions as stored now (the file changed under us); pairings in progress stay.
    package mutating func replacePaired(_ stored: [Paired]) { paired = stored }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomHex(bytes: Int) -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
