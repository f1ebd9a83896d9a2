import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// Pro Santé Connect's card login as it works today: the browser's NSS loads cpsd's module (registered
/// by `cpsctl setup`), the server asks for a client certificate, the browser picks the card's
/// authentication certificate, asks the PIN in its own dialog, and the card's CPS_PRIV_AUT key signs
/// the TLS 1.2 handshake (CPS3 keys sign PKCS#1 v1.5 only, which TLS 1.3 forbids).
///
/// Real Debian browsers run on a private Xvfb display (the PIN dialog is part of the browser UI, which
/// headless browsers cannot show to any input), driven by Tests/Fixtures/BrowserTLS; the PIN is typed
/// into the browser's dialog with xdotool.
@Suite("Browsers log in by TLS client authentication with the card through cpsd")
struct BrowserTLSClientAuthTests {
    static let issuerCN = "TEST AC IGC-SANTE FORT PERSONNES"
    static let x11Tools = ["/usr/bin/Xvfb", "/usr/bin/xdotool", "/usr/bin/xwininfo", "/usr/bin/certutil"]

    /// A browser as the test runs it: the executable cpsd's audit names, what it needs installed, its
    /// driver script and the log that driver leaves in the work directory.
    struct Browser {
        let executable: String
        let requirements: [String]
        let script: String
        let log: String
        /// Whether the driver takes the Firefox profile `cpsctl setup` registered cpsd in.
        let usesFirefoxProfile: Bool
    }

    static let chromium = Browser(
        executable: "/usr/lib/chromium/chromium",
        requirements: ["/usr/bin/chromedriver", "/usr/lib/python3/dist-packages/selenium/__init__.py"],
        script: "chromium_client_auth.py", log: "chromium-browser.log", usesFirefoxProfile: false)
    static let firefox = Browser(
        executable: "/usr/lib/firefox-esr/firefox-esr", requirements: [], script: "firefox_client_auth.py",
        log: "firefox.log", usesFirefoxProfile: true)

    @Test("Chromium: the card certificate is chosen by policy, the PIN typed in Chromium's dialog, the card signs")
    func chromiumLogsIn() async throws {
        // AutoSelectCertificateForUrls: Chromium sends the card's certificate without its chooser.
        try await Self.logIn(Self.chromium) { server in
            try ChromiumPolicy(autoSelectFor: server.origin, issuerCN: Self.issuerCN)
        }
    }

    @Test("Firefox ESR: the certificate is chosen automatically, the PIN typed in Firefox's dialog, the card signs")
    func firefoxLogsIn() async throws {
        // The driver sets security.default_personal_cert = "Select Automatically" in the profile.
        try await Self.logIn(Self.firefox) { _ in nil }
    }

    @Test("Chromium with a CPS4: the server allows TLS 1.3 and the card signs the handshake with RSA-PSS")
    func chromiumLogsInWithCPS4() async throws {
        try await Self.logIn(Self.chromium, card: TestCards.cps4State()) { server in
            try ChromiumPolicy(autoSelectFor: server.origin, issuerCN: Self.issuerCN)
        }
    }

    @Test("Firefox ESR with a CPS4: TLS 1.3, the card signs the handshake with RSA-PSS")
    func firefoxLogsInWithCPS4() async throws {
        try await Self.logIn(Self.firefox, card: TestCards.cps4State()) { _ in nil }
    }

    /// Starts cpsd on the real stack, the HTTPS server and a HOME set up by `cpsctl setup`, has the browser
    /// load the server's page, and checks the login.
    /// With a CPS4 the server also allows TLS 1.3, which the browser then negotiates (the card signs RSA-PSS).
    static func logIn(
        _ browser: Browser, card: CardState? = nil, policy: (ClientCertServer) throws -> ChromiumPolicy?
    ) async throws {
        let cps4 = card.map { $0.generation == .cps4 } ?? false
        if let missing = BrowserTLS.missing([browser.executable] + browser.requirements + x11Tools) {
            Issue.record("\(missing)")  // a failure, never a silent skip
            return
        }
        try await DaemonTest.withDaemon(singleCard: true, cards: card.map { [$0] }) { stack, daemon in
            let server = try ClientCertServer(
                directory: TestCards.temporaryDirectory("cpsd-tls-server").path, allowTLS13: cps4)
            defer { server.stop() }
            let home = try BrowserHome(trusting: server.serverCA)
            defer { home.remove() }
            let installed = try policy(server)
            defer { installed?.remove() }

            var arguments = ["--url", "\(server.origin)/", "--work-dir", home.work, "--timeout", "150"]
            if browser.usesFirefoxProfile { arguments += ["--profile", home.firefoxProfile] }
            let run = try BrowserRun.run(
                browser.script, arguments,
                environment: daemon.environment.merging(home.environment) { $1 }, pin: TestCards.pin,
                workDirectory: home.work, timeout: 240)
            let log = BrowserTLS.read("\(home.work)/\(browser.log)", last: 30)
            checkLogin(
                run, browserLog: log, executable: browser.executable, server: server, daemon: daemon, stack: stack,
                tls13: cps4)
        }
    }

    /// The page shows the holder's certificate (CN = idNat) over TLS 1.2; the PIN dialog came once; the
    /// server verified the same subject; cpsd's audit says the browser's process had the card's
    /// authentication key sign; no PIN try was spent.
    static func checkLogin(
        _ run: BrowserRun, browserLog: String, executable: String, server: ClientCertServer, daemon: DaemonProcess,
        stack: RealStack, tls13: Bool = false
    ) {
        let holder = TestCards.defaultState.holder
        let context = { "\(run)\nserver:\n\(server.log)\ncpsd:\n\(daemon.logTail(lines: 40))\nbrowser:\n\(browserLog)" }
        // The whole context (driver result and log, server, cpsd, browser log) once; the other checks
        // say what they saw.
        #expect(run.ok, "\(context())")
        #expect(run.subject.contains("commonName=\(holder.idNat)"), "page: \(run.subject)")
        #expect(run.subject.contains("surname=\(holder.surname)"), "page: \(run.subject)")
        #expect(run.tlsVersion == (tls13 ? "TLSv1.3" : "TLSv1.2"))
        // No dialog: NSS never reached the token (module not loaded, cpsd not reachable, no certificate).
        #expect(run.pinDialogs == 1 && run.typedPin, "one PIN dialog, typed into once: \(run.stdout)")
        #expect(server.log.contains("client certificate subject:"), "server:\n\(server.log)")
        #expect(server.log.contains("commonName=\(holder.idNat)"), "server:\n\(server.log)")

        let audit = daemon.log.split(separator: "\n").filter {
            $0.contains("audit=signature") && $0.contains("peer_exe=\(executable)")
        }
        let signedByCard = audit.contains {
            $0.contains("key=CPS_PRIV_AUT") && $0.contains("result=ok") && $0.contains("mechanism=CKM_RSA_PKCS")
                && $0.contains("mechanism=CKM_RSA_PKCS_PSS") == tls13
        }
        // PIN typed but no signature: the certificate chooser (drawn inside the browser window) is waiting,
        // i.e. Chromium's policy or Firefox's security.default_personal_cert did not apply.
        #expect(signedByCard, "no audit=signature line for \(executable) with CPS_PRIV_AUT:\n\(daemon.logTail())")
        #expect(!audit.contains { $0.contains("key=CPS_PRIV_SIG") }, "the signature key signed a TLS handshake")
        #expect(stack.cards[0].state.pin.triesLeft == 3, "a PIN try was spent")
    }
}
