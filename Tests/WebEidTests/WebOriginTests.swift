import Testing
import WebEid

@Suite("Web origins: strict parsing, one serialization")
struct WebOriginTests {
    @Test(
        "origins a browser gives are accepted and serialized as browsers do",
        arguments: [
            ("https://example.com", "https://example.com"),
            ("https://localhost:8443", "https://localhost:8443"),
            ("https://127.0.0.1:36443", "https://127.0.0.1:36443"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("wss://ws.example.fr:9443", "wss://ws.example.fr:9443"),
            ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
            ("https://pro.sante-connect.fr", "https://pro.sante-connect.fr"),
        ])
    func accepted(text: String, serialized: String) throws {
        let origin = try WebOrigin(validating: text)
        #expect(origin.serialized == serialized)
        #expect(origin.description == serialized)
    }

    @Test("scheme and host are lowercased and the default port is dropped, so spellings of one origin are equal")
    func normalized() throws {
        let spelled = try WebOrigin(validating: "HTTPS://Example.COM:443")
        #expect(spelled.serialized == "https://example.com")
        #expect(spelled == (try WebOrigin(validating: "https://example.com")))
        #expect(try WebOrigin(validating: "wss://example.com:443").serialized == "wss://example.com")
        #expect(try WebOrigin(validating: "https://example.com:08443").serialized == "https://example.com:8443")
        #expect(try WebOrigin(validating: "https://[::1]").port == nil)
    }

    @Test(
        "not https or wss: insecure origin",
        arguments: ["http://example.com", "ws://example.com", "file://host", "chrome-extension://abcdef", "ftp://x.fr"])
    func insecure(text: String) {
        #expect(throws: WebEidError(.insecureOrigin, "")) { try WebOrigin(validating: text) }
    }

    @Test(
        "anything a browser would never give as an origin: invalid origin",
        arguments: [
            "https://example.com/", "https://example.com/login", "https://example.com?x=1", "https://example.com#top",
            "https://user@example.com", "https://user:pw@example.com", "https://", "https://:8443", "https://example.com:",
            "https://example.com:0", "https://example.com:65536", "https://example.com:84a3", "https://example.com:+443",
            "https://bücher.example", "https://exa mple.com", "https://-bad.example", "https://bad-.example",
            "https://a..b.example", "https://example.com.", "https://1.2.3", "https://256.1.1.1", "https://01.2.3.4",
            "https://example.123", "https://[::1", "https://[::1]x", "https://[zz::1]", "https://under_score.example",
            "https://example.com\\evil", "example.com", "://example.com", "", "https://exa\u{0}mple.com",
        ])
    func invalid(text: String) {
        #expect(throws: WebEidError(.invalidOrigin, "")) { try WebOrigin(validating: text) }
    }

    @Test("an origin longer than 255 characters is refused; 255 is accepted")
    func length() throws {
        // "https://" (8) + three 63-character labels with their dots (192) + a last label making up the rest.
        func origin(length: Int) -> String {
            "https://" + String(repeating: String(repeating: "a", count: 63) + ".", count: 3)
                + String(repeating: "b", count: length - 200)
        }
        let longest = origin(length: 255)
        #expect(longest.count == 255)
        #expect(try WebOrigin(validating: longest).serialized == longest)
        #expect(throws: WebEidError(.invalidOrigin, "")) { try WebOrigin(validating: origin(length: 256)) }
    }
}
