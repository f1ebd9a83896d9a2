package import CardIdentity
package import Foundation
package import WebEid
package import WebEidRelyingParty

/// The demo relying party's routes on its main port: the login page, the page library, and the two
/// JSON endpoints of a Web eID login (challenge, then login with the token).
///
/// CSRF and login-forgery defences: POSTs must be `Content-Type: application/json` (a cross-site form
/// cannot send that without a CORS preflight, which this server never grants) and carry an `Origin`
/// equal to the site's own; the challenge is bound to a `__Host-` session cookie (HttpOnly, Secure,
/// SameSite=Strict), so only the browser session that asked for a nonce can log in with it, once.
package struct WebEidLoginApp: Sendable {
    package static let sessionCookie = "__Host-cps-demo-session"

    package let origin: WebOrigin
    package let nonces: ChallengeNonceStore
    package let validator: WebEidTokenValidator
    /// Where the page library `cps-bridge.js` is read from (at each request, so an edit shows at once).
    package let pageLibrary: URL?
    /// The TLS client-authentication page, linked from the login page.
    package let clientAuthenticationURL: String?

    package init(
        origin: WebOrigin, trustStore: TrustStore, nonces: ChallengeNonceStore = ChallengeNonceStore(),
        pageLibrary: URL?, clientAuthenticationURL: String?, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.origin = origin
        self.nonces = nonces
        self.validator = WebEidTokenValidator(trustStore: trustStore, expectedOrigin: origin, now: now)
        self.pageLibrary = pageLibrary
        self.clientAuthenticationURL = clientAuthenticationURL
    }

    package func handle(_ request: DemoRequest) async -> DemoResponse {
        let response: DemoResponse
        switch (request.method, request.path) {
        case ("GET", "/"), ("HEAD", "/"):
            response = .html(200, DemoPages.loginPage(clientAuthenticationURL: clientAuthenticationURL))
        case ("GET", "/login.js"):
            response = .text(200, "text/javascript; charset=utf-8", DemoPages.loginScript(origin: origin.serialized))
        case ("GET", "/style.css"):
            response = .text(200, "text/css; charset=utf-8", DemoPages.styleSheet)
        case ("GET", "/cps-bridge.js"):
            response = pageLibraryResponse()
        case ("POST", "/auth/challenge"):
            response = checkPost(request) ?? challenge()
        case ("POST", "/auth/login"):
            if let refusal = checkPost(request) {
                response = refusal
            } else {
                response = await login(request)
            }
        case (_, "/"), (_, "/login.js"), (_, "/style.css"), (_, "/cps-bridge.js"), (_, "/auth/challenge"), (_, "/auth/login"):
            response = .error(405, code: "methodNotAllowed", message: "\(request.method) is not allowed on \(request.path)")
        default:
            response = .error(404, code: "notFound", message: "no such page")
        }
        return response.withSecurityHeaders()
    }

    /// The same-origin and JSON rules every POST must pass.
    private func checkPost(_ request: DemoRequest) -> DemoResponse? {
        guard let sent = request.header("origin"), (try? WebOrigin(validating: sent)) == origin else {
            return .error(403, code: "crossOrigin", message: "requests must come from \(origin.serialized)")
        }
        guard request.hasJSONBody else {
            return .error(415, code: "unsupportedMediaType", message: "the body must be application/json")
        }
        return nil
    }

    private func challenge() -> DemoResponse {
        let session = Self.newSessionID()
        let nonce = nonces.issue(session: session)
        let cookie = "\(Self.sessionCookie)=\(session); Path=/; Secure; HttpOnly; SameSite=Strict"
        return .json(200, ["challengeNonce": nonce], headers: [("set-cookie", cookie)])
    }

    private func login(_ request: DemoRequest) async -> DemoResponse {
        guard let session = request.cookie(Self.sessionCookie), !session.isEmpty else {
            return .error(401, code: "noSession", message: "no session: ask for a challenge first")
        }
        do {
            // Taken out before validation: a failed attempt uses the nonce up too (no retries on one nonce).
            let nonce = try nonces.consume(session: session)
            let identity = try await validator.validate(tokenJSON: request.body, nonce: nonce)
            return .json(200, ["idNat": identity.idNat, "name": identity.displayName, "profession": identity.profession ?? ""])
        } catch {
            // A production service answers a generic refusal and logs the code; the demo shows it.
            let status = [.tokenLength, .malformedToken].contains(error.code) ? 400 : 401
            return .error(status, code: error.code.rawValue, message: error.reason)
        }
    }

    private func pageLibraryResponse() -> DemoResponse {
        guard let pageLibrary, let text = try? String(contentsOf: pageLibrary, encoding: .utf8) else {
            return .error(404, code: "notFound", message: "cps-bridge.js is not installed next to this demo")
        }
        return .text(200, "text/javascript; charset=utf-8", text)
    }

    /// 32 random bytes, base64url without padding (43 characters): unguessable, cookie-safe.
    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension DemoResponse {
    func withSecurityHeaders() -> DemoResponse {
        var response = self
        response.headers += Self.securityHeaders.map { (name: $0.0, value: $0.1) }
        return response
    }
}
