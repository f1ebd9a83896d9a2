import CardTestSupport
import Foundation
import Testing
import VirtualCard
import WebEid

/// cps-demo-rp as a user runs it: the built binary, HTTPS with the certificate of its local CA, curl as the
/// browser (cookie jar, Origin header), tokens signed by a virtual card's authentication key through the
/// CPS3 driver. Each test starts its own server on free ports.
@Suite("cps-demo-rp over HTTPS", .serialized)
struct DemoRelyingPartyTests {
    /// A running demo server and what it printed.
    final class Server {
        let directory: URL
        let process: WatchedProcess
        let port: Int
        let clientPort: Int
        let caPath: String
        var origin: String { "https://localhost:\(port)" }

        init() throws {
            directory = TestCards.temporaryDirectory("cpsd-demo-rp")
            let library = directory.appendingPathComponent("cps-bridge.js")
            try "window.CpsBridge = { test: true };\n".write(to: library, atomically: true, encoding: .utf8)
            process = try WatchedProcess(
                ToolRunner.executable("cps-demo-rp"),
                ["--port", "0", "--tls-client-port", "0", "--state-dir", directory.appendingPathComponent("state").path,
                 "--page-library", library.path],
                logPath: directory.appendingPathComponent("demo.log").path)
            try process.waitForOutput("cps-demo-rp: ready")
            let log = process.log
            port = try Self.number(in: log, after: "login page: https://localhost:")
            clientPort = try Self.number(in: log, after: "TLS client authentication: https://localhost:")
            caPath = directory.appendingPathComponent("state/ca.pem").path
            #expect(log.contains("TLS CA (trust it in the browser profile): \(caPath)"))
        }

        deinit {
            process.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        static func number(in log: String, after prefix: String) throws -> Int {
            let start = try #require(log.range(of: prefix)).upperBound
            return try #require(Int(log[start...].prefix { $0.isNumber }))
        }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        /// curl with the demo's CA; returns the HTTP status and the body (status 0 when curl failed).
        func curl(_ arguments: [String]) throws -> (status: Int, body: String, curlExit: Int32) {
            let bodyFile = path("body-\(UUID().uuidString.prefix(6))")
            let result = try ToolRunner.run(
                "/usr/bin/curl",
                ["-sS", "--cacert", caPath, "-o", bodyFile, "-w", "%{http_code}", "--max-time", "20"] + arguments)
            let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: bodyFile)
            return (Int(result.stdout) ?? 0, body, result.status)
        }

        /// POST as the page does: same-origin Origin, JSON, the session cookie jar.
        func post(
            _ route: String, body: String = "{}", jar: String? = nil, origin: String? = nil,
            contentType: String = "application/json"
        ) throws -> (status: Int, body: String, curlExit: Int32) {
            let bodyPath = path("request-\(UUID().uuidString.prefix(6)).json")
            try body.write(toFile: bodyPath, atomically: true, encoding: .utf8)
            var arguments = [
                "-X", "POST", "-H", "Content-Type: \(contentType)", "-H", "Origin: \(origin ?? self.origin)",
                "--data-binary", "@\(bodyPath)",
            ]
            if let jar { arguments += ["-b", jar, "-c", jar] }
            return try curl(arguments + ["\(self.origin)\(route)"])
        }

        /// A challenge in a fresh cookie jar: the jar's path and the nonce.
        func challenge() throws -> (jar: String, nonce: String) {
            let jar = path("jar-\(UUID().uuidString.prefix(6))")
            let response = try post("/auth/challenge", jar: jar)
            #expect(response.status == 200, "\(response)")
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: String]
            return (jar, try #require(object?["challengeNonce"]))
        }
    }

    static func errorCode(_ body: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [String: String]]
        return object?["error"]?["code"]
    }

    @Test("the login page and the page library are served over TLS trusted through the demo's local CA")
    func page() throws {
        let server = try Server()
        let page = try server.curl(["\(server.origin)/"])
        #expect(page.status == 200 && page.body.contains("Se connecter avec la carte CPS"), "\(page)")
        let library = try server.curl(["\(server.origin)/cps-bridge.js"])
        #expect(library.status == 200 && library.body.contains("window.CpsBridge"))
        // Without the CA, curl does not trust the server: the certificate really comes from that CA.
        let untrusted = try ToolRunner.run("/usr/bin/curl", ["-sS", "--max-time", "20", "\(server.origin)/"])
        #expect(untrusted.status == 60, "\(untrusted.output)")
    }

    @Test("challenge, card token, login: the holder's identity; the same login replayed is refused")
    func roundTrip() throws {
        let server = try Server()
        let (jar, nonce) = try server.challenge()
        let cookies = try String(contentsOfFile: jar, encoding: .utf8)
        #expect(cookies.contains("#HttpOnly_localhost") && cookies.contains("__Host-cps-demo-session"))
        let token = try WebEidTestTokens.token(origin: try WebOrigin(validating: server.origin), nonce: nonce)
        let body = String(decoding: token.jsonData(), as: UTF8.self)
        let login = try server.post("/auth/login", body: body, jar: jar)
        #expect(login.status == 200, "\(login)")
        let identity = try JSONSerialization.jsonObject(with: Data(login.body.utf8)) as? [String: String]
        #expect(identity?["idNat"] == "899700218896" && identity?["name"] == "ROBERT SPECIALISTE0021889")
        let replay = try server.post("/auth/login", body: body, jar: jar)
        #expect(replay.status == 401 && Self.errorCode(replay.body) == "nonceNotFound", "\(replay)")
    }

    @Test("refusals over HTTPS: token for another origin, no session cookie, non-JSON body, cross-origin POST")
    func refusals() throws {
        let server = try Server()
        let (jar, nonce) = try server.challenge()
        let other = try WebOrigin(validating: "https://localhost:\(server.port == 1 ? 2 : server.port - 1)")
        let forged = String(decoding: try WebEidTestTokens.token(origin: other, nonce: nonce).jsonData(), as: UTF8.self)
        let wrongOrigin = try server.post("/auth/login", body: forged, jar: jar)
        #expect(wrongOrigin.status == 401 && Self.errorCode(wrongOrigin.body) == "invalidSignature", "\(wrongOrigin)")

        let (jar2, nonce2) = try server.challenge()
        let token = try WebEidTestTokens.token(origin: try WebOrigin(validating: server.origin), nonce: nonce2)
        let body = String(decoding: token.jsonData(), as: UTF8.self)
        let noCookie = try server.post("/auth/login", body: body)
        #expect(noCookie.status == 401 && Self.errorCode(noCookie.body) == "noSession", "\(noCookie)")
        let form = try server.post("/auth/login", body: body, jar: jar2, contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 415, "\(form)")
        let crossSite = try server.post("/auth/login", body: body, jar: jar2, origin: "https://evil.example")
        #expect(crossSite.status == 403 && Self.errorCode(crossSite.body) == "crossOrigin", "\(crossSite)")
        let oversize = try server.post("/auth/login", body: String(repeating: "x", count: 20_000), jar: jar2)
        #expect(oversize.status == 413, "\(oversize)")
        // None of those refusals reached the nonce store: the honest login on that session still works.
        let honest = try server.post("/auth/login", body: body, jar: jar2)
        #expect(honest.status == 200, "\(honest)")
    }

    @Test("TLS client authentication with the card's certificate and key (TLS 1.2) shows the holder")
    func clientAuthentication() throws {
        let server = try Server()
        let state = TestCards.defaultState
        let certDER = server.path("auth.der")
        let keyDER = server.path("auth-key.der")
        try Data(state.authenticationCertificateDER).write(to: URL(fileURLWithPath: certDER))
        try Data(state.authenticationKeyDER).write(to: URL(fileURLWithPath: keyDER))
        let certPEM = server.path("auth.pem")
        let keyPEM = server.path("auth-key.pem")
        #expect(try ToolRunner.run("/usr/bin/openssl", ["x509", "-inform", "DER", "-in", certDER, "-out", certPEM]).status == 0)
        #expect(try ToolRunner.run("/usr/bin/openssl", ["rsa", "-inform", "DER", "-in", keyDER, "-out", keyPEM]).status == 0)
        let url = "https://localhost:\(server.clientPort)"

        let withCard = try server.curl(["--cert", certPEM, "--key", keyPEM, "--tls-max", "1.2", "\(url)/whoami"])
        #expect(withCard.status == 200, "\(withCard)")
        let identity = try JSONSerialization.jsonObject(with: Data(withCard.body.utf8)) as? [String: String]
        #expect(identity?["idNat"] == "899700218896" && identity?["profession"] == "Médecin")
        let page = try server.curl(["--cert", certPEM, "--key", keyPEM, "\(url)/"])
        #expect(page.status == 200 && page.body.contains("Connecté : ROBERT SPECIALISTE0021889 (899700218896)"), "\(page)")

        let noCard = try server.curl(["\(url)/whoami"])
        #expect(noCard.status == 403 && Self.errorCode(noCard.body) == "noClientCertificate", "\(noCard)")
        // TLS 1.3 is not offered: a CPS3 key cannot make its PSS CertificateVerify.
        let tls13 = try server.curl(["--tlsv1.3", "\(url)/whoami"])
        #expect(tls13.status == 0 && tls13.curlExit != 0, "\(tls13)")

        // A self-signed certificate is refused by the TLS layer itself.
        let selfKey = server.path("self-key.pem")
        let selfCert = server.path("self.pem")
        let made = try ToolRunner.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", selfKey, "-out", selfCert, "-days", "2",
             "-subj", "/CN=899700218896"])
        #expect(made.status == 0, "\(made.output)")
        let stranger = try server.curl(["--cert", selfCert, "--key", selfKey, "\(url)/whoami"])
        #expect(stranger.status == 0 && stranger.curlExit != 0, "\(stranger)")
    }
}
