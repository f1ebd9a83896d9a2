import CardTestSupport
import Foundation
import Testing

/// The cpsd WebExtension, one source, in headless Chromium and Firefox ESR, without cpsd: the ids, the
/// page API's acknowledgement and refusals, and the errors a page sees when cpsd or the extension is
/// missing. Test pages come from `openssl s_server` with a throwaway CA trusted in the browsers' NSS dbs.
@Suite("cpsd WebExtension in Chromium and Firefox", .serialized)
struct BrowserExtensionTests {
    /// A page and a same-origin frame, both with the page library inline.
    static func writePages(to root: URL) throws {
        let library = try String(contentsOf: WebExtensionTest.pageLibrary, encoding: .utf8)
        let head = "<!doctype html><meta charset=\"utf-8\"><script>\n\(library)\n</script>"
        try (head + "<title>cpsd test page</title><p>page</p><iframe src=\"/frame.html\"></iframe>")
            .write(to: root.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
        try (head + "<title>frame</title><p>frame</p>")
            .write(to: root.appendingPathComponent("frame.html"), atomically: true, encoding: .utf8)
    }

    /// Runs `body` with a browser (with or without the extension) and the test pages' server.
    static func withBrowser(
        _ browser: Browser, loadExtension: Bool = true, _ body: (BrowserDriver, StaticHTTPSServer) throws -> Void
    ) async throws {
        try await WebExtensionTest.exclusive {
            let home = try WebExtensionHome()
            defer { home.remove() }
            let root = home.home.appendingPathComponent("www")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try writePages(to: root)
            let pki = try TestServerPKI(in: home.home)
            try home.trust(caPEM: pki.caPath, nickname: "cpsd test pages CA")
            let server = try StaticHTTPSServer(root: root, pki: pki)
            defer { server.stop() }
            let driver = try BrowserDriver(browser, home: home, loadExtension: loadExtension)
            defer { driver.quit() }
            try body(driver, server)
        }
    }

    static let nonce = String(repeating: "n", count: 44)

    @Test("The manifest's key gives Chromium the id cpsd accepts; Chromium and Firefox load the extension")
    func extensionID() async throws {
        let manifestURL = WebExtensionTest.extensionDirectory.appendingPathComponent("manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any]
        let keyFile = WebExtensionTest.extensionDirectory.appendingPathComponent("manifest-key.txt").path
        let key = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(manifest?["key"] as? String == key)
        // Chromium's id: the first 128 bits of SHA-256(public key DER), hex digits written a…p.
        let derived = try ToolRunner.shell("base64 -d \(keyFile) | sha256sum | cut -c1-32 | tr 0-9a-f a-p")
        #expect(derived.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == WebExtensionTest.extensionID)

        try await Self.withBrowser(.chromium) { driver, _ in
            let listed = try driver.require(["cmd": "extensions"])["ids"] as? [String] ?? []
            #expect(listed.contains(WebExtensionTest.extensionID), "\(listed)")
            try driver.open(driver.popupURL)
            let identity = try driver.run("return chrome.runtime.id;")
            #expect(identity.value as? String == WebExtensionTest.extensionID, "\(identity)")
            // The popup asked the background for the status (whatever listens on the default port).
            #expect(try driver.wait("#bridge", matching: "^(ok|error)$", attribute: "data-state") != nil)
        }
        try await Self.withBrowser(.firefox) { driver, _ in
            let listed = try driver.require(["cmd": "extensions"])["ids"] as? [String] ?? []
            #expect(listed.contains(WebExtensionTest.firefoxAddonID), "\(listed)")
            try driver.open(driver.popupURL)
            let identity = try driver.run("return browser.runtime.id;")
            #expect(identity.value as? String == WebExtensionTest.firefoxAddonID, "\(identity)")
            #expect(try driver.wait("#bridge", matching: "^(ok|error)$", attribute: "data-state") != nil)
        }
    }

    @Test(
        "A page detects the extension; status says only {available: true}; a clicked authenticate is ERR_NOT_PAIRED",
        arguments: Browser.allCases)
    func noBridge(browser: Browser) async throws {
        try await Self.withBrowser(browser) { driver, server in
            try WebExtensionTest.setBridgePort(try WebExtensionTest.freePort(), driver)
            #expect(try driver.wait("#bridge", matching: "^error$", attribute: "data-state") != nil)
            #expect(try driver.wait("#paired", matching: "^false$", attribute: "data-paired") != nil)

            try driver.open(server.origin + "/index.html")
            let available = try driver.run("return await CpsBridge.isAvailable();")
            #expect(available.bool == true, "\(available)")
            // Not even whether cpsd runs: the page learns that the extension is there, nothing else.
            let status = try driver.run("return await CpsBridge.status();")
            #expect(status.object?.keys.sorted() == ["available"], "\(status)")
            #expect(status.object?["available"] as? Bool == true, "\(status)")
            let login = try driver.runOnClick("return await CpsBridge.authenticate('\(Self.nonce)');")
            #expect(login.code == "ERR_NOT_PAIRED", "\(login)")
        }
    }

    @Test(
        "authenticate without a user gesture (on load, timer, forged UserActivation): ERR_USER_GESTURE_REQUIRED",
        arguments: Browser.allCases)
    func gestureRequired(browser: Browser) async throws {
        try await Self.withBrowser(browser) { driver, server in
            try WebExtensionTest.setBridgePort(try WebExtensionTest.freePort(), driver)
            try driver.open(server.origin + "/index.html")
            // The background would answer ERR_NOT_PAIRED (and count the request against the site's budget).
            let onLoad = try driver.run("return await CpsBridge.authenticate('\(Self.nonce)');")
            #expect(onLoad.code == "ERR_USER_GESTURE_REQUIRED", "\(onLoad)")
            let fromTimer = try driver.run(
                """
                return await new Promise((resolve, reject) => setTimeout(
                  () => CpsBridge.authenticate('\(Self.nonce)').then(resolve, reject), 200));
                """)
            #expect(fromTimer.code == "ERR_USER_GESTURE_REQUIRED", "\(fromTimer)")
            let raw = try Self.exchange(
                "{cpsBridge: 'request', id: 'r-gesture', action: 'authenticate', challengeNonce: '\(Self.nonce)'}",
                driver)
            #expect(raw == ["ack", "response:ERR_USER_GESTURE_REQUIRED"])
            // A page that lies about its activation, to itself: the content script does not see the lie.
            let forged = try driver.run(
                """
                Object.defineProperty(UserActivation.prototype, 'isActive', {get: () => true});
                Object.defineProperty(navigator, 'userActivation', {value: {isActive: true, hasBeenActive: true}});
                if (navigator.userActivation.isActive !== true) return 'the lie did not take';
                return await CpsBridge.authenticate('\(Self.nonce)');
                """)
            #expect(forged.code == "ERR_USER_GESTURE_REQUIRED", "\(forged)")

            // The same call from a click goes through (to the background, which finds no pairing).
            try driver.open(server.origin + "/index.html")
            let clicked = try driver.runOnClick("return await CpsBridge.authenticate('\(Self.nonce)');")
            #expect(clicked.code == "ERR_NOT_PAIRED", "\(clicked)")
        }
    }

    @Test(
        "A site's rapid requests are throttled (ERR_TOO_MANY_REQUESTS) after three; another site is not",
        arguments: Browser.allCases)
    func throttledPerSite(browser: Browser) async throws {
        try await Self.withBrowser(browser) { driver, server in
            try WebExtensionTest.setBridgePort(try WebExtensionTest.freePort(), driver)
            try driver.open(server.origin + "/index.html")
            // Five clicks in a row, each its own user gesture: three requests reach the background (which
            // answers ERR_NOT_PAIRED), the others are refused before it.
            var codes: [String] = []
            for _ in 0..<5 {
                let outcome = try driver.runOnClick("return await CpsBridge.authenticate('\(Self.nonce)');")
                codes.append(outcome.code ?? "\(outcome)")
            }
            let expected = ["ERR_NOT_PAIRED", "ERR_NOT_PAIRED", "ERR_NOT_PAIRED", "ERR_TOO_MANY_REQUESTS",
                            "ERR_TOO_MANY_REQUESTS"]
            #expect(codes == expected)
            // The same pages at another origin (the server's IP address): a budget of its own.
            try driver.open("https://127.0.0.1:\(server.port)/index.html")
            let other = try driver.runOnClick("return await CpsBridge.authenticate('\(Self.nonce)');")
            #expect(other.code == "ERR_NOT_PAIRED", "\(other)")
        }
    }

    @Test("Without the extension the page library says ERR_EXTENSION_UNAVAILABLE")
    func noExtension() async throws {
        try await Self.withBrowser(.chromium, loadExtension: false) { driver, server in
            try driver.open(server.origin + "/index.html")
            let available = try driver.run("return await CpsBridge.isAvailable();")
            #expect(available.bool == false, "\(available)")
            let login = try driver.run("return await CpsBridge.authenticate('\(Self.nonce)');")
            #expect(login.code == "ERR_EXTENSION_UNAVAILABLE", "\(login)")
        }
    }

    /// Posts `message` (a JS object literal) on the page and lists, for 1.5 s, what comes back with its id.
    static func exchange(_ message: String, _ driver: BrowserDriver) throws -> [String] {
        let outcome = try driver.run(
            """
            const message = \(message);
            const seen = [];
            const listen = (event) => {
              const data = event.data;
              if (!data || data.id !== message.id || data.cpsBridge === 'request') return;
              seen.push(data.cpsBridge + (data.error ? ':' + data.error.code : ''));
            };
            window.addEventListener('message', listen);
            window.postMessage(message, location.origin);
            await new Promise((resolve) => setTimeout(resolve, 1500));
            window.removeEventListener('message', listen);
            return seen;
            """)
        guard case .value(let value) = outcome, let seen = value as? [String] else {
            throw BrowserTestError("exchange: \(outcome)")
        }
        return seen
    }

    @Test(
        "Frames get ERR_CONTEXT_INSECURE; malformed requests get no ack or ERR_INVALID_ARGUMENT",
        arguments: Browser.allCases)
    func refusals(browser: Browser) async throws {
        try await Self.withBrowser(browser) { driver, server in
            try WebExtensionTest.setBridgePort(try WebExtensionTest.freePort(), driver)
            try driver.open(server.origin + "/index.html")
            let framed = try driver.run(
                """
                const frame = document.querySelector('iframe');
                if (!frame.contentWindow.CpsBridge) {
                  await new Promise((resolve) => frame.addEventListener('load', resolve));
                }
                return await frame.contentWindow.CpsBridge.status();
                """)
            #expect(framed.code == "ERR_CONTEXT_INSECURE", "\(framed)")

            let unknown = try Self.exchange("{cpsBridge: 'request', id: 'r-unknown', action: 'sign'}", driver)
            #expect(unknown == ["ack", "response:ERR_INVALID_ARGUMENT"])
            let badNonce = try Self.exchange(
                "{cpsBridge: 'request', id: 'r-nonce', action: 'authenticate', challengeNonce: 7}", driver)
            #expect(badNonce == ["ack", "response:ERR_INVALID_ARGUMENT"])
            let numericID = try Self.exchange("{cpsBridge: 'request', id: 42, action: 'status'}", driver)
            #expect(numericID.isEmpty, "an id must be a string: \(numericID)")
            let status = try Self.exchange("{cpsBridge: 'request', id: 'r-status', action: 'status', extra: 1}", driver)
            #expect(status == ["ack", "response"])
        }
    }
}
