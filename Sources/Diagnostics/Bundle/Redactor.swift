import BridgeProtocol
import Foundation

/// Removes personal data from the support bundle's text, keeping what a supporter needs (check ids,
/// statuses, counts, reader models, versions). A pure function of its inputs and the text.
///
/// Removed: the values this diag run saw on the card (holder names, idNat, card and certificate
/// serials); the user's home directory (→ `~`) and login name; and, by shape, so that log lines of
/// earlier cards and sessions go too: card serials next to the words that introduce them (any length:
/// `CPS3v3-<serial>`, `serial 12345678`, `"serialNumber": "…"`), the holder's name after `holder`, the
/// USB serial in a reader's name (`Reader (A1B2C3D4) 00 00`), site origins (except the loopback ones of
/// the bridge), Firefox extension uuids and other uuids, Chromium extension ids other than cpsd's own,
/// French health identifiers (idNat: RPPS 8 + 11 digits, ADELI 0 + 9 digits, bare forms), FINESS (9
/// digits), SIRET (14 digits) and certificate serials (hex).
package struct Redactor {
    package let knownValues: [String]
    package let home: String?
    package let loginNames: [String]
    package let enabled: Bool

    /// cpsd's published Chromium extension id: the same on every machine, so not personal, and useful.
    static let ownExtensionID = BridgeExtensionIDs.chromium

    /// (pattern, template), applied in order after the known values; `$1`… are the pattern's groups.
    /// ICU reads a set opening with `[:` as a POSIX class up to the next `:]`: no set here begins with a colon.
    static let patterns: [(String, String)] = [
        // Token labels and serials where cpsd, cpsctl or diag print them, whatever their length.
        (#"\b(CPS3v3|CPS4v1)-[0-9A-Za-z]+"#, "$1-<serial>"),
        (#"(?i)\b(serial(?:[ _]?number)?)(["']?\s*[=: ]\s*["']?)(?=[0-9A-F:]*[0-9])[0-9A-F][0-9A-F:]*\b"#, "$1$2<serial>"),
        (#"\b([Hh]older(?:[ _]?name)?)(["']?\s*[=: ]\s*["']?)\p{Lu}[\p{L}'-]*(?: \p{Lu}[\p{L}'-]*)*"#, "$1$2<name>"),
        // A USB serial in a PC/SC reader name: "Model (SERIAL) 00 00" keeps the model and the indices.
        (#"\([^()\n]+\)( [0-9A-F]{2} [0-9A-F]{2}\b)"#, "(<serial>)$1"),
        // Origins: the site a user logged in to, and browser extension instances.
        (#"\b(https?|wss?)://(?!(?:127\.0\.0\.1|localhost|\[::1\])(?:[/:"'\s]|$))[^\s"'<>,;)\]]+"#, "$1://<site>"),
        (#"\bmoz-extension://[^\s"'<>,;)\]/]+"#, "moz-extension://<extension-uuid>"),
        (#"\bchrome-extension://(?!\#(ownExtensionID)\b)[a-p]{32}"#, "chrome-extension://<extension-id>"),
        (#"\b(?!\#(ownExtensionID)\b)[a-p]{32}\b"#, "<extension-id>"),
        (#"(?i)\b[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\b"#, "<uuid>"),
        // Certificate serial numbers as printed (hex bytes, with or without colons), 8 bytes or more.
        (#"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7,}\b"#, "<certificate-serial>"),
        (#"\b[0-9A-Fa-f]{16,}\b"#, "<hex>"),
        // idNat: a type prefix digit then RPPS (11), ADELI (9); with the prefix 8/0 or bare.
        (#"\b[0-9]{9,14}\b"#, "<number>"),
    ]

    /// - Parameters:
    ///   - knownValues: values seen by this run (names, idNat, serials), removed wherever they occur.
    ///   - home: the user's home directory, replaced by `~` (so paths under it stay readable).
    ///   - loginNames: the user's login names, removed as whole words; `root` is kept (not personal,
    ///     and removing it would mangle "root CA").
    package init(knownValues: [String], home: String? = nil, loginNames: [String] = [], enabled: Bool = true) {
        // Longest first, so a value containing another is removed whole.
        self.knownValues = knownValues.filter { $0.count >= 2 }.sorted { $0.count > $1.count }
        self.home = home.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }.flatMap { $0.count > 1 ? $0 : nil }
        self.loginNames = Array(Set(loginNames.filter { $0.count >= 2 && $0 != "root" })).sorted { $0.count > $1.count }
        self.enabled = enabled
    }

    /// The current user's home and login names, from the environment cpsctl runs in and the password database.
    package init(knownValues: [String], environment: [String: String], enabled: Bool = true) {
        let logins = [environment["USER"], environment["LOGNAME"], ProcessInfo.processInfo.userName].compactMap { $0 }
        self.init(knownValues: knownValues, home: environment["HOME"] ?? NSHomeDirectory(), loginNames: logins, enabled: enabled)
    }

    package func redact(_ text: String) -> String {
        guard enabled else { return text }
        var result = text
        if let home {
            // Only as a whole path component: /home/anne must not turn /home/annex into ~x.
            result = Self.replace(#"\#(NSRegularExpression.escapedPattern(for: home))(?=[/"'\s:,;)\]]|$)"#, in: result, with: "~")
        }
        for value in knownValues {
            result = result.replacingOccurrences(of: value, with: "<redacted>", options: .caseInsensitive)
        }
        for login in loginNames {
            let escaped = NSRegularExpression.escapedPattern(for: login)
            result = Self.replace(#"(?<![\p{L}\p{N}_-])\#(escaped)(?![\p{L}\p{N}_-])"#, in: result, with: "<user>")
        }
        for (pattern, template) in Self.patterns {
            result = Self.replace(pattern, in: result, with: template)
        }
        return result
    }

    private static func replace(_ pattern: String, in text: String, with template: String) -> String {
        guard let expression = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) else {
            // A pattern of ours that does not compile is a bug; fail closed rather than leak.
            return "<redaction failed: pattern \(pattern) did not compile>\n"
        }
        return expression.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}
