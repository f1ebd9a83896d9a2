import Foundation

/// A web origin a signature may be bound to: `https://host[:port]` or `wss://host[:port]`, in the
/// serialization browsers give (`location.origin`, the extension's `sender.origin`) and Web eID hashes.
///
/// Parsing is strict because the origin is what the user's signature is bound to: anything a browser
/// would never produce as an origin (a path, even "/", a query, a fragment, userinfo, an empty port, a
/// non-ASCII host) is refused rather than repaired. Scheme and host are lowercased and the default port
/// (443) is dropped, so two spellings of one origin sign the same bytes. Internationalized names must
/// arrive in their ASCII (punycode, `xn--`) form, as browsers serialize them.
package struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    package let scheme: String
    package let host: String
    /// nil for the scheme's default port.
    package let port: Int?

    /// Origins longer than this are refused (Web eID's bound).
    package static let maxLength = 255
    private static let secureSchemes: Set<String> = ["https", "wss"]
    private static let defaultPort = 443

    package init(validating text: String) throws(WebEidError) {
        guard text.utf8.count <= Self.maxLength else {
            throw WebEidError(.invalidOrigin, "the origin is longer than \(Self.maxLength) characters")
        }
        guard text.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw WebEidError(.invalidOrigin, "the origin must be printable ASCII (punycode for international names)")
        }
        guard let separator = text.range(of: "://") else {
            throw WebEidError(.invalidOrigin, "the origin is not scheme://host[:port]")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
            throw WebEidError(.invalidOrigin, "the origin has no valid scheme")
        }
        guard Self.secureSchemes.contains(scheme) else {
            throw WebEidError(.insecureOrigin, "the origin's scheme must be https or wss, not \(scheme)")
        }
        let authority = String(text[separator.upperBound...])
        if let bad = authority.first(where: { "/?#@\\".contains($0) }) {
            let what = bad == "@" ? "user information" : bad == "?" ? "a query" : bad == "#" ? "a fragment" : "a path"
            throw WebEidError(.invalidOrigin, "an origin has no \(what)")
        }
        let (host, port) = try Self.splitHostAndPort(authority)
        self.scheme = scheme
        self.host = host
        self.port = port == Self.defaultPort ? nil : port
    }

    /// `scheme://host[:port]`, no trailing slash: the exact bytes hashed into the signed data.
    package var serialized: String {
        port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    package var description: String { serialized }

    private static func splitHostAndPort(_ authority: String) throws(WebEidError) -> (String, Int?) {
        var hostPart = Substring(authority)
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw WebEidError(.invalidOrigin, "unterminated IPv6 literal")
            }
            hostPart = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw WebEidError(.invalidOrigin, "junk after the IPv6 literal") }
                portPart = rest.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        let host = try validatedHost(hostPart.lowercased())
        guard let portPart else { return (host, nil) }
        guard (1...5).contains(portPart.count), portPart.allSatisfy(\.isASCIIDigit), let port = Int(portPart),
            (1...65_535).contains(port)
        else {
            throw WebEidError(.invalidOrigin, "the port must be a number from 1 to 65535")
        }
        return (host, port)
    }

    private static func validatedHost(_ host: String) throws(WebEidError) -> String {
        guard !host.isEmpty else { throw WebEidError(.invalidOrigin, "the origin has no host") }
        if host.hasPrefix("[") {
            let inner = host.dropFirst().dropLast()
            guard host.hasSuffix("]"), inner.filter({ $0 == ":" }).count >= 2,
                inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else { throw WebEidError(.invalidOrigin, "malformed IPv6 literal") }
            return host
        }
        if host.allSatisfy({ $0.isASCIIDigit || $0 == "." }) {
            guard isCanonicalIPv4(host) else { throw WebEidError(.invalidOrigin, "malformed IPv4 address \(host)") }
            return host
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host.count <= 253, labels.allSatisfy(isHostnameLabel) else {
            throw WebEidError(.invalidOrigin, "\(host) is not a valid host name (letters, digits, hyphens; punycode)")
        }
        // A name ending in a number is parsed as an IPv4 address by browsers: never a host name.
        guard let last = labels.last, !last.allSatisfy(\.isASCIIDigit) else {
            throw WebEidError(.invalidOrigin, "\(host) ends in a number but is not an IPv4 address")
        }
        return host
    }

    private static func isHostnameLabel(_ label: Substring) -> Bool {
        (1...63).contains(label.count) && label.first != "-" && label.last != "-"
            && label.allSatisfy { ("a"..."z").contains($0) || $0.isASCIIDigit || $0 == "-" }
    }

    /// Four decimal parts 0…255 without leading zeros: the only IPv4 form a browser's origin contains.
    private static func isCanonicalIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard let value = Int(part), (0...255).contains(value) else { return false }
                return String(value) == part
            }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
