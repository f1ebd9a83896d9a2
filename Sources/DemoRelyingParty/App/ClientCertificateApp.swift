package import CardIdentity
package import Foundation
package import WebEidRelyingParty

/// The demo's second port: TLS client authentication, the way Pro Santé Connect logs a card in today.
/// The TLS layer has already required a client certificate chaining to the trust roots (TLS 1.2 at most:
/// a CPS3 key signs PKCS#1 v1.5 only); this app checks it again like a token's certificate (validity,
/// key usages, chain, holder) and shows who it is.
package struct ClientCertificateApp: Sendable {
    package let certificates: HolderCertificateValidator
    package let loginPageURL: String?
    private let now: @Sendable () -> Date

    package init(trustStore: TrustStore, loginPageURL: String?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.certificates = HolderCertificateValidator(trustStore: trustStore)
        self.loginPageURL = loginPageURL
        self.now = now
    }

    package func handle(_ request: DemoRequest) async -> DemoResponse {
        guard request.method == "GET" else {
            return DemoResponse.error(405, code: "methodNotAllowed", message: "only GET here").withSecurityHeaders()
        }
        switch request.path {
        case "/", "/whoami":
            return await identityResponse(request, json: request.path == "/whoami").withSecurityHeaders()
        case "/style.css":
            return DemoResponse.text(200, "text/css; charset=utf-8", DemoPages.styleSheet).withSecurityHeaders()
        default:
            return DemoResponse.error(404, code: "notFound", message: "no such page").withSecurityHeaders()
        }
    }

    private func identityResponse(_ request: DemoRequest, json: Bool) async -> DemoResponse {
        guard let der = request.clientCertificateDER else {
            let message = "no client certificate was presented"
            return json ? .error(403, code: "noClientCertificate", message: message) : page(403, .failure(Self.noCertificateHelp))
        }
        do {
            let (_, identity) = try await certificates.validate(der: der, at: now())
            guard json else { return page(200, .success(identity)) }
            return .json(200, [
                "idNat": identity.idNat, "name": identity.displayName, "profession": identity.profession ?? "",
                "issuer": identity.certificate.issuer,
            ])
        } catch {
            return json
                ? .error(403, code: error.code.rawValue, message: error.reason)
                : page(403, .failure("Certificat refusé : \(error.reason)"))
        }
    }

    private func page(_ status: Int, _ outcome: DemoPages.ClientAuthenticationOutcome) -> DemoResponse {
        .html(status, DemoPages.clientAuthenticationPage(outcome, loginPageURL: loginPageURL))
    }

    private static let noCertificateHelp = """
        Aucun certificat client n'a été présenté. Insérez la carte CPS, vérifiez que le module de cpsd est \
        enregistré dans le navigateur (cpsctl setup), puis rechargez la page.
        """
}
