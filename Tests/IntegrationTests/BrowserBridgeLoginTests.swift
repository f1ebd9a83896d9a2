import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// A card login in a real browser, end to end: headless Chromium (and Firefox ESR for the main path) with
/// the cpsd WebExtension, pairing through the extension's popup, the demo relying party's login page,
/// cpsd's bridge asking the PIN with the scripted pinentry, the virtual card signing on the real stack.
/// TLS is verified everywhere: cpsd's CA is trusted by `cpsctl setup`, the demo's by certutil, in the
/// browser's own NSS databases.
@Suite("Card login in a browser through the cpsd WebExtension and bridge", .serialized)
struct BrowserBridgeLoginTests {
    static let idNat = TestCards.defaultState.holder.idNat

    @Test(
        "Pair through the popup, click the login button, type the PIN: the page shows the holder's verified idNat",
        arguments: Browser.allCases, ["CPS3", "CPS4"])
    func login(browser: Browser, generation: String) async throws {
        let card = generation == "CPS4" ? TestCards.cps4State() : TestCards.defaultState
        try await BridgeLoginSession.run(browser, card: card) { session in
            let pairing = try session.pair()
            // cpsd's dialog names the extension asking: its origin, as the browser sent it.
            let pairingText = pairing["desc"] as? String ?? ""
            let popup = URL(string: session.driver.popupURL)
            let extensionOrigin = "\(popup?.scheme ?? "?")://\(popup?.host ?? "?")"
            #expect(pairingText.contains(extensionOrigin), "\(extensionOrigin): \(pairingText)")

            try session.answer("pin 1234")
            let before = session.pinDialogs.count
            let shown = try session.clickLogin()
            #expect(shown.hasPrefix("Connecté"), "\(shown)\n\(session.context)")
            #expect(shown.contains(Self.idNat), "\(shown)")
            // cpsd asked the PIN for the page's origin as the browser reported it.
            let asked = session.pinDialogs.dropFirst(before)
            #expect(asked.count == 1, "\(session.context)")
            let question = asked.first?["desc"] as? String ?? ""
            #expect(question.contains(session.relyingPartyOrigin), "\(question)")
            #expect(session.pinTriesLeft == 3)
        }
    }

    @Test("A wrong PIN: the page shows ERR_PIN_INVALID and the tries left, and the card counted one VERIFY")
    func wrongPIN() async throws {
        try await BridgeLoginSession.run(.chromium) { session in
            try session.pair()
            try session.answer("pin 9999")
            let shown = try session.clickLogin()
            #expect(shown.contains("ERR_PIN_INVALID") && shown.contains("Essais restants : 2"), "\(shown)")
            #expect(session.pinDialogs.count == 1, "one dialog, no retry:\n\(session.context)")
            #expect(session.pinTriesLeft == 2, "exactly one VERIFY reached the card")

            // The page library itself hands the tries left over; cpsd's dialog showed them before the PIN.
            try session.answer("pin 9999")
            let attempt = try session.authenticateOnDemoPage()
            #expect(attempt.code == "ERR_PIN_INVALID", "\(attempt)\n\(session.context)")
            if case .failure(_, let retriesLeft, _) = attempt { #expect(retriesLeft == 1) }
            #expect(session.pinDialogs.count == 2, "\(session.context)")
            let warning = session.pinDialogs.last?["desc"] as? String ?? ""
            #expect(warning.contains("2 sur 3"), "the dialog shows the tries left: \(warning)")
            #expect(session.pinTriesLeft == 1)

            try session.answer("pin 1234")
            let success = try session.clickLogin()
            #expect(success.contains(Self.idNat), "\(success)\n\(session.context)")
            #expect(session.pinTriesLeft == 3, "a right PIN resets the counter")
        }
    }

    @Test("cpsd signs for the origin the browser reports, whatever origin the page writes in its request")
    func pageCannotChooseOrigin() async throws {
        try await BridgeLoginSession.run(.chromium) { session in
            try session.pair()
            try session.driver.open(session.relyingPartyOrigin + "/")
            try session.answer("pin 1234")
            // A raw page API request with extra fields, one of them an origin of the page's choosing; the
            // token then goes to the demo, which checks it against its own origin and nonce.
            let login = try session.driver.runOnClick(
                """
                const post = async (path, body) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
                  headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).json();
                const challenge = await post('/auth/challenge', {});
                const id = 'forged-origin';
                const answer = new Promise((resolve) => window.addEventListener('message', (event) => {
                  if (event.data && event.data.id === id && event.data.cpsBridge === 'response') resolve(event.data);
                }));
                window.postMessage({cpsBridge: 'request', id, action: 'authenticate',
                  challengeNonce: challenge.challengeNonce, origin: 'https://evil.example',
                  requestId: 'chosen-by-page'}, location.origin);
                const response = await answer;
                if (response.error) return {error: response.error.code};
                return {fields: Object.keys(response.result).sort(), who: await post('/auth/login', response.result)};
                """, timeout: 90)
            let outcome = login.object ?? [:]
            let fields = ["algorithm", "appVersion", "format", "signature", "unverifiedCertificate"]
            #expect(outcome["fields"] as? [String] == fields, "exactly the web-eid:1.0 fields: \(login)")
            let who = outcome["who"] as? [String: Any] ?? [:]
            #expect(who["idNat"] as? String == Self.idNat, "\(login)\n\(session.context)")
            let question = session.pinDialogs.last?["desc"] as? String ?? ""
            #expect(question.contains(session.relyingPartyOrigin) && !question.contains("evil.example"), "\(question)")
        }
    }

    @Test(
        "No gesture, no PIN dialog (ERR_USER_GESTURE_REQUIRED); status says only available; a click logs in",
        arguments: Browser.allCases)
    func noDialogWithoutUser(browser: Browser) async throws {
        try await BridgeLoginSession.run(browser) { session in
            try session.pair()
            try session.answer("pin 1234")
            try session.driver.open(session.relyingPartyOrigin + "/")
            let dialogsBefore = session.dialogs.count
            // Paired, a card inserted: the page learns neither.
            let status = try session.driver.run("return await CpsBridge.status();")
            #expect(status.object?.keys.sorted() == ["available"], "\(status)")
            #expect(status.object?["available"] as? Bool == true, "\(status)")
            // As soon as the page loads, then from a timer: no gesture, no request to cpsd, no dialog.
            let onLoad = try session.authenticateOnDemoPage(withClick: false)
            #expect(onLoad.code == "ERR_USER_GESTURE_REQUIRED", "\(onLoad)")
            let fromTimer = try session.driver.run(
                """
                const challenge = await (await fetch('/auth/challenge', {method: 'POST', credentials: 'same-origin',
                  headers: {'Content-Type': 'application/json'}, body: '{}'})).json();
                return await new Promise((resolve, reject) => setTimeout(
                  () => CpsBridge.authenticate(challenge.challengeNonce).then(resolve, reject), 300));
                """)
            #expect(fromTimer.code == "ERR_USER_GESTURE_REQUIRED", "\(fromTimer)")
            #expect(session.dialogs.count == dialogsBefore, "a dialog opened without the user:\n\(session.context)")
            #expect(session.pinTriesLeft == 3)

            // The user clicks the demo's button: one PIN dialog, logged in (the answer set above was unused).
            let shown = try session.clickLogin()
            #expect(shown.hasPrefix("Connecté") && shown.contains(Self.idNat), "\(shown)\n\(session.context)")
            #expect(session.pinDialogs.count == 1, "\(session.context)")
        }
    }

    @Test(
        "A site's second request while its first waits for the PIN is ERR_TOO_MANY_REQUESTS, without a dialog",
        arguments: Browser.allCases)
    func oneRequestPerSite(browser: Browser) async throws {
        try await BridgeLoginSession.run(browser) { session in
            try session.pair()
            try session.answer("pin 1234")
            try session.driver.open(session.relyingPartyOrigin + "/")
            // One click, two calls at once (a page hammering the user with dialogs would do so).
            let outcome = try session.driver.runOnClick(
                """
                const post = async (path) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
                  headers: {'Content-Type': 'application/json'}, body: '{}'})).json();
                const [one, two] = [await post('/auth/challenge'), await post('/auth/challenge')];
                const first = CpsBridge.authenticate(one.challengeNonce);
                const second = CpsBridge.authenticate(two.challengeNonce);
                const settle = (call) => call.then((token) => token.format, (error) => error.code);
                return [await settle(first), await settle(second)];
                """, timeout: 90)
            #expect(outcome.value as? [String] == ["web-eid:1.0", "ERR_TOO_MANY_REQUESTS"], "\(outcome)")
            #expect(session.pinDialogs.count == 1, "\(session.context)")
            #expect(session.pinTriesLeft == 3)
        }
    }

    @Test("A web page calling the bridge itself gets no CORS answer and cannot open cpsd's dialogs")
    func pageCannotCallBridge() async throws {
        try await BridgeLoginSession.run(.chromium) { session in
            try session.pair()
            // Another site, without a Content-Security-Policy that would stop its requests before the bridge.
            let root = session.home.home.appendingPathComponent("other-site")
            let pkiDirectory = session.home.home.appendingPathComponent("other-site-pki")
            for directory in [root, pkiDirectory] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try "<!doctype html><title>another site</title>".write(
                to: root.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
            let pki = try TestServerPKI(in: pkiDirectory)
            try session.home.trust(caPEM: pki.caPath, nickname: "other site CA")
            let site = try StaticHTTPSServer(root: root, pki: pki)
            defer { site.stop() }
            try session.driver.open(site.origin + "/index.html")

            let dialogsBefore = session.dialogs.count
            let refusalsBefore = session.bridge.daemon.log.components(separatedBy: "code=ERR_CALLER_ORIGIN").count
            let direct = try session.driver.run(
                """
                const url = 'https://127.0.0.1:\(session.bridge.port)';
                const outcome = {};
                try {
                  await fetch(url + '/v1/status', {method: 'POST', body: '{}',
                    headers: {'Content-Type': 'application/json', 'X-CPS-Bridge': '1'}});
                  outcome.cors = 'answered';
                } catch (error) { outcome.cors = error.name; }
                // A "simple" request needs no preflight: the bridge must refuse it by its Origin.
                const simple = await fetch(url + '/v1/pair/start', {method: 'POST', mode: 'no-cors', body: '{}'});
                outcome.simple = simple.type;
                return outcome;
                """)
            let outcome = direct.object ?? [:]
            #expect(outcome["cors"] as? String == "TypeError", "\(direct)")
            #expect(outcome["simple"] as? String == "opaque", "\(direct)")
            // Both reached cpsd, which refused them (the preflight and the simple POST).
            let refusals = session.bridge.daemon.log.components(separatedBy: "code=ERR_CALLER_ORIGIN").count
            #expect(refusals - refusalsBefore == 2, "\(session.context)")
            #expect(session.dialogs.count == dialogsBefore, "a page opened a cpsd dialog:\n\(session.context)")
        }
    }

    @Test("A PIN dialog left open past 30 s: the extension outlives it and the page gets cpsd's ERR_USER_TIMEOUT")
    func slowUser() async throws {
        // Browsers stop an idle extension worker after 30 s, a pending fetch notwithstanding: the background
        // keeps itself alive while cpsd waits for the user.
        try await BridgeLoginSession.run(.chromium, userTimeout: 40) { session in
            try session.pair()
            try session.driver.open(session.relyingPartyOrigin + "/")
            try session.answer("timeout")  // pinentry waits out cpsd's timeout, as an unattended dialog does
            let attempt = try session.authenticateOnDemoPage()
            #expect(attempt.code == "ERR_USER_TIMEOUT", "\(attempt)\n\(session.context)")
            #expect(session.pinDialogs.count == 1, "the browser sent the request once:\n\(session.context)")
            #expect(session.pinTriesLeft == 3)
        }
    }

    @Test("A page that gives up closes cpsd's dialog: the next login is not refused as pending")
    func pageTimeoutCancels() async throws {
        try await BridgeLoginSession.run(.chromium) { session in
            try session.pair()
            try session.driver.open(session.relyingPartyOrigin + "/")
            try session.answer("hang")  // the user does not answer
            let abandoned = try session.authenticateOnDemoPage(options: "{timeout: 3000}")
            #expect(abandoned.code == "ERR_USER_TIMEOUT", "\(abandoned)")
            try session.answer("pin 1234")
            let next = try session.authenticateOnDemoPage()
            #expect(next.object?["format"] as? String == "web-eid:1.0", "\(next)\n\(session.context)")
            #expect(session.pinTriesLeft == 3)
        }
    }
}
