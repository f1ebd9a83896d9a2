import Foundation

/// One HTTP request as the demo's routes see it: no NIO types, so routes are tested in memory.
package struct DemoRequest: Sendable {
    package var method: String
    /// The path without the query.
    package var path: String
    /// Header names lowercased; repeated headers keep every value in order.
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// DER of the client certificate the TLS layer verified, on the client-authentication port.
    package var clientCertificateDER: [UInt8]?

    package init(
        method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        clientCertificateDER: [UInt8]? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers.map { (name: $0.0.lowercased(), value: $0.1) }
        self.body = body
        self.clientCertificateDER = clientCertificateDER
    }

    /// The first value of a header.
    package func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    /// A cookie's value from every Cookie header.
    package func cookie(_ name: String) -> String? {
        for header in headers where header.name == "cookie" {
            for pair in header.value.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// True when the media type is application/json (parameters such as charset allowed).
    package var hasJSONBody: Bool {
        guard let type = header("content-type") else { return false }
        let media = type.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return media.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}

/// One HTTP response. Every response carries the security headers of ``DemoResponse/securityHeaders``.
package struct DemoResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.headers = [(name: "content-type", value: contentType)] + headers.map { (name: $0.0, value: $0.1) }
        self.body = body
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The page cannot be framed, scripts only come from the site itself, nothing is sniffed or cached.
    package static let securityHeaders: [(String, String)] = [
        ("content-security-policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ]

    package static func json(_ status: Int, _ object: [String: String], headers: [(String, String)] = []) -> DemoResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(object)).map(Array.init) ?? []
        return DemoResponse(status: status, contentType: "application/json", body: body, headers: headers)
    }

    /// `{"error": {"code": …, "message": …}}`, the shape the cpsd bridge uses too.
    package static func error(_ status: Int, code: String, message: String) -> DemoResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(["error": ["code": code, "message": message]])).map(Array.init) ?? []
        return DemoResponse(status: status, contentType: "application/json", body: body)
    }

    package static func text(_ status: Int, _ contentType: String, _ text: String) -> DemoResponse {
        DemoResponse(status: status, contentType: contentType, body: Array(text.utf8))
    }

    package static func html(_ status: Int, _ page: String) -> DemoResponse {
        text(status, "text/html; charset=utf-8", page)
    }

    package var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Escapes text for HTML element content and attribute values (certificate names are not trusted input).
package func htmlEscaped(_ text: String) -> String {
    var escaped = ""
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}
