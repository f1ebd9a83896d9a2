import CardTestSupport
import DemoRelyingParty
import Foundation
import Testing
import VirtualCard
import WebEid
import WebEidRelyingParty

/// The demo relying party's routes, in memory (the same routes run behind TLS in IntegrationTests).
@Suite("Demo relying party routes")
struct DemoAppTests {
    static let origin = RelyingPartyTestSupport.siteA

    static func app(pageLibrary: URL? = nil) throws -> WebEidLoginApp {
        WebEidLoginApp(
            origin: origin, trustStore: try RelyingPartyTestSupport.trustStore(), pageLibrary: pageLibrary,
            clientAuthenticationURL: "https://localhost:8444/")
    }

    static func post(
        _ path: String, _ body: [UInt8] = Array("{}".utf8), cookie: String? = nil, origin: String? = origin.serialized,
        contentType: String = "application/json"
    ) -> DemoRequest {
        var headers = [("Content-Type", contentType)]
        if let origin { headers.append(("Origin", origin)) }
        if let cookie { headers.append(("Cookie", "theme=dark; \(WebEidLoginApp.sessionCookie)=\(cookie)")) }
        return DemoRequest(method: "POST", path: path, headers: headers, body: body)
    }

    /// Asks for a challenge; returns the session cookie's value and the nonce.
    static func challenge(_ app: WebEidLoginApp) async throws -> (session: String, nonce: String) {
        let response = await app.handle(post("/auth/challenge"))
        #expect(response.status == 200)
        let setCookie = try #require(response.header("set-cookie"))
        let session = try #require(setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        return (String(session), try #require(object["challengeNonce"]))
    }

    static func errorCode(_ response: DemoResponse) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]]
        return object?["error"]?["code"]
    }

    @Test("the login page is French, loads the page library, and is served with a strict CSP")
    func page() async throws {
        let response = try await Self.app().handle(DemoRequest(method: "GET", path: "/"))
        #expect(response.status == 200)
        #expect(response.bodyText.contains("Se connecter avec la carte CPS"))
        #expect(response.bodyText.contains(#"<script src="/cps-bridge.js"></script>"#))
        #expect(response.header("content-security-policy")?.contains("default-src 'self'") == true)
        let script = try await Self.app().handle(DemoRequest(method: "GET", path: "/login.js"))
        #expect(script.bodyText.contains("CpsBridge.authenticate(challenge.challengeNonce)"))
        #expect(script.bodyText.contains("\"https://rp.example:8443\""))
    }

    @Test("the challenge sets a __Host- session cookie, HttpOnly, Secure, SameSite=Strict, and returns a valid nonce")
    func challengeCookie() async throws {
        let app = try Self.app()
        let response = await app.handle(Self.post("/auth/challenge"))
        let cookie = try #require(response.header("set-cookie"))
        #expect(cookie.hasPrefix("__Host-cps-demo-session="))
        for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            #expect(cookie.contains("; \(attribute)"), "\(attribute) missing in \(cookie)")
        }
        let (_, nonce) = try await Self.challenge(app)
        try ChallengeNonce.validate(nonce)
        #expect(app.nonces.count == 2)
    }

    @Test("challenge → card token → login gives the holder; the same login again is refused")
    func roundTrip() async throws {
        let app = try Self.app()
        let (session, nonce) = try await Self.challenge(app)
        let token = WebEidTestTokens.json(try WebEidTestTokens.token(origin: Self.origin, nonce: nonce))
        let response = await app.handle(Self.post("/auth/login", token, cookie: session))
        #expect(response.status == 200, "\(response.bodyText)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        #expect(object == ["idNat": "899700218896", "name": "ROBERT SPECIALISTE0021889", "profession": "Médecin"])
        let replay = await app.handle(Self.post("/auth/login", token, cookie: session))
        #expect(replay.status == 401)
        #expect(Self.errorCode(replay) == "nonceNotFound")
    }

    @Test("a token for another origin is refused, and the nonce is used up by the failed attempt")
    func otherOrigin() async throws {
        let app = try Self.app()
        let (session, nonce) = try await Self.challenge(app)
        let phishing = try WebEidTestTokens.token(origin: RelyingPartyTestSupport.siteB, nonce: nonce)
        let response = await app.handle(Self.post("/auth/login", WebEidTestTokens.json(phishing), cookie: session))
        #expect(response.status == 401)
        #expect(Self.errorCode(response) == "invalidSignature")
        let honest = try WebEidTestTokens.token(origin: Self.origin, nonce: nonce)
        let retry = await app.handle(Self.post("/auth/login", WebEidTestTokens.json(honest), cookie: session))
        #expect(Self.errorCode(retry) == "nonceNotFound")
    }

    @Test("another browser session's cookie cannot use a nonce it did not receive")
    func otherSession() async throws {
        let app = try Self.app()
        let (_, nonce) = try await Self.challenge(app)
        let (otherSession, _) = try await Self.challenge(app)
        let token = try WebEidTestTokens.token(origin: Self.origin, nonce: nonce)
        let response = await app.handle(Self.post("/auth/login", WebEidTestTokens.json(token), cookie: otherSession))
        #expect(Self.errorCode(response) == "invalidSignature")
    }

    @Test("CSRF: no session cookie, a foreign or missing Origin, or a form content type are refused")
    func csrf() async throws {
        let app = try Self.app()
        let (session, nonce) = try await Self.challenge(app)
        let token = WebEidTestTokens.json(try WebEidTestTokens.token(origin: Self.origin, nonce: nonce))
        let noCookie = await app.handle(Self.post("/auth/login", token))
        #expect(noCookie.status == 401 && Self.errorCode(noCookie) == "noSession")
        let foreign = await app.handle(Self.post("/auth/login", token, cookie: session, origin: "https://evil.example"))
        #expect(foreign.status == 403 && Self.errorCode(foreign) == "crossOrigin")
        let missing = await app.handle(Self.post("/auth/login", token, cookie: session, origin: nil))
        #expect(missing.status == 403)
        for type in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"] {
            let form = await app.handle(Self.post("/auth/login", token, cookie: session, contentType: type))
            #expect(form.status == 415 && Self.errorCode(form) == "unsupportedMediaType")
            let challenge = await app.handle(Self.post("/auth/challenge", contentType: type))
            #expect(challenge.status == 415 && challenge.header("set-cookie") == nil)
        }
        // None of the refusals touched the nonce: the real login still works.
        let charset = await app.handle(
            Self.post("/auth/login", token, cookie: session, contentType: "application/json; charset=utf-8"))
        #expect(charset.status == 200)
    }

    @Test("malformed and oversize tokens are 400, unknown routes 404, wrong methods 405")
    func badRequests() async throws {
        let app = try Self.app()
        let (session, _) = try await Self.challenge(app)
        let garbage = await app.handle(Self.post("/auth/login", Array(String(repeating: "{", count: 200).utf8), cookie: session))
        #expect(garbage.status == 400 && Self.errorCode(garbage) == "malformedToken")
        let (session2, _) = try await Self.challenge(app)
        let huge = await app.handle(Self.post("/auth/login", Array(repeating: 0x20, count: 10_001), cookie: session2))
        #expect(huge.status == 400 && Self.errorCode(huge) == "tokenLength")
        #expect(await app.handle(DemoRequest(method: "GET", path: "/admin")).status == 404)
        #expect(await app.handle(DemoRequest(method: "GET", path: "/auth/login")).status == 405)
    }

    @Test("/cps-bridge.js is the page library file when it exists, 404 otherwise")
    func pageLibrary() async throws {
        let directory = TestCards.temporaryDirectory("cpsd-demo-rp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cps-bridge.js")
        let app = try Self.app(pageLibrary: file)
        #expect(await app.handle(DemoRequest(method: "GET", path: "/cps-bridge.js")).status == 404)
        try "window.CpsBridge = {};\n".write(to: file, atomically: true, encoding: .utf8)
        let response = await app.handle(DemoRequest(method: "GET", path: "/cps-bridge.js"))
        #expect(response.status == 200 && response.bodyText == "window.CpsBridge = {};\n")
        #expect(response.header("content-type")?.hasPrefix("text/javascript") == true)
    }
}

@Suite("Demo TLS client authentication page")
struct ClientCertificateAppTests {
    static func app() throws -> ClientCertificateApp {
        ClientCertificateApp(trustStore: try RelyingPartyTestSupport.trustStore(), loginPageURL: "https://localhost:8443/")
    }

    @Test("the card's authentication certificate shows the holder; JSON at /whoami")
    func identity() async throws {
        let der = TestCards.defaultState.authenticationCertificateDER
        let page = try await Self.app().handle(DemoRequest(method: "GET", path: "/", clientCertificateDER: der))
        #expect(page.status == 200)
        #expect(page.bodyText.contains("Connecté : ROBERT SPECIALISTE0021889 (899700218896)"))
        let json = try await Self.app().handle(DemoRequest(method: "GET", path: "/whoami", clientCertificateDER: der))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.body)) as? [String: String])
        #expect(object["idNat"] == "899700218896" && object["profession"] == "Médecin")
    }

    @Test("no certificate, the signature certificate, or a foreign one are refused with a reason")
    func refused() async throws {
        let none = try await Self.app().handle(DemoRequest(method: "GET", path: "/"))
        #expect(none.status == 403 && none.bodyText.contains("Aucun certificat client"))
        let signature = try await Self.app().handle(
            DemoRequest(method: "GET", path: "/whoami", clientCertificateDER: TestCards.defaultState.signatureCertificateDER))
        #expect(signature.status == 403 && DemoAppTests.errorCode(signature) == "keyUsage")
        let foreign = try ForeignCA().issue(publicKey: try CertificateValidationTests.cardPublicKey())
        let untrusted = try await Self.app().handle(DemoRequest(method: "GET", path: "/whoami", clientCertificateDER: foreign))
        #expect(untrusted.status == 403 && DemoAppTests.errorCode(untrusted) == "untrustedCertificate")
    }

    @Test("certificate names are HTML-escaped")
    func escaped() {
        #expect(htmlEscaped(#"<script>"x"&'y'</script>"#) == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;")
    }
}
