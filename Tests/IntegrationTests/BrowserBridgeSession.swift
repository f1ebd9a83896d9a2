import CardTestSupport
import Foundation
import Testing
import VirtualCard

/// One card-login environment for the browser tests: cpsd with its bridge and the scripted pinentry on
/// the real stack (``BridgeHarness``), the demo relying party, and a browser with the WebExtension in a
/// fresh HOME where `cpsctl setup` trusted cpsd's CA, and certutil the demo's.
final class BridgeLoginSession {
    let stack: RealStack
    let bridge: BridgeHarness
    let home: WebExtensionHome
    let relyingParty: WatchedProcess
    let relyingPartyOrigin: String
    let driver: BrowserDriver

    init(
        stack: RealStack, bridge: BridgeHarness, home: WebExtensionHome, relyingParty: WatchedProcess,
        relyingPartyOrigin: String, driver: BrowserDriver
    ) {
        self.stack = stack
        self.bridge = bridge
        self.home = home
        self.relyingParty = relyingParty
        self.relyingPartyOrigin = relyingPartyOrigin
        self.driver = driver
    }

    /// Runs `body` in a new session with `browser`; cpsd's dialogs wait `userTimeout` seconds at most.
    static func run(
        _ browser: Browser, card: CardState = TestCards.defaultState, userTimeout: Int? = nil,
        _ body: (BridgeLoginSession) throws -> Void
    ) async throws {
        try await WebExtensionTest.exclusive {
            try await BridgeHarness.withBridge(card: card, userTimeout: userTimeout) { stack, bridge in
                let home = try WebExtensionHome()
                defer { home.remove() }
                // cpsd made its CA at first start; the user's `cpsctl setup` trusts it in both browsers.
                // cpsd's state (its CA) is in the harness's home, the browsers' databases in ours.
                let bridgeState = ["XDG_STATE_HOME": bridge.home.appendingPathComponent("state").path]
                let setup = try ToolRunner.run(
                    ToolRunner.executable("cpsctl"), ["setup"],
                    environment: home.environment.merging(bridgeState) { $1 })
                guard setup.status == 0, setup.stdout.contains("bridge CA trusted") else {
                    throw BrowserTestError("cpsctl setup: \(setup.output)")
                }

                let relyingParty = try WatchedProcess(
                    ToolRunner.executable("cps-demo-rp"),
                    [
                        "--port", "0", "--tls-client-port", "0", "--state-dir",
                        home.home.appendingPathComponent("rp").path,
                    ],
                    logPath: home.home.appendingPathComponent("cps-demo-rp.log").path, environment: home.environment)
                defer { relyingParty.stop() }
                try relyingParty.waitForOutput("ready")
                let log = relyingParty.log
                guard let port = firstMatch(#"login page: https://localhost:([0-9]+)/"#, in: log),
                    let demoCA = firstMatch(#"TLS CA \(trust it in the browser profile\): (\S+)"#, in: log)
                else { throw BrowserTestError("cps-demo-rp said:\n\(log)") }
                try home.trust(caPEM: demoCA, nickname: "cps-demo-rp CA")

                let driver = try BrowserDriver(browser, home: home)
                defer { driver.quit() }
                try body(
                    BridgeLoginSession(
                        stack: stack, bridge: bridge, home: home, relyingParty: relyingParty,
                        relyingPartyOrigin: "https://localhost:\(port)", driver: driver))
            }
        }
    }

    /// The first capture group of `pattern` in `text`.
    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let expression = try? NSRegularExpression(pattern: pattern),
            let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    /// The user's answers to cpsd's next dialogs (`pin 1234`, `ok`, `timeout`…), from now on.
    func answer(_ lines: String...) throws { try bridge.setDialogAnswers(lines) }

    var dialogs: [[String: Any]] { bridge.dialogs() }
    var pinDialogs: [[String: Any]] { dialogs.filter { $0["command"] as? String == "GETPIN" } }
    var pinTriesLeft: Int { stack.cards[0].state.pin.triesLeft }

    /// What to read when a check fails.
    var context: String {
        "dialogs:\n\(dialogs)\ncpsd:\n\(bridge.daemon.logTail())\ndemo:\n\(relyingParty.log)\ndriver:\n\(driver.log)"
    }

    /// Pairs the extension with cpsd through its popup, as the user does: ask, read the code in cpsd's
    /// dialog, type it in the popup. Returns the pairing dialog.
    @discardableResult
    func pair() throws -> [String: Any] {
        try WebExtensionTest.setBridgePort(bridge.port, driver)
        guard try driver.wait("#bridge", matching: "^ok$", attribute: "data-state") != nil else {
            throw BrowserTestError("the popup does not reach cpsd's bridge:\n\(context)")
        }
        try answer("ok")  // the user reads the code, then closes cpsd's window
        let shown = bridge.messageDialogs().count
        try driver.click("#pair-start")
        let code = try bridge.waitForPairingCode(after: shown)
        try driver.type("#pair-code", code)
        try driver.click("#pair-submit")
        guard try driver.wait("#paired", matching: "^true$", attribute: "data-paired") != nil else {
            throw BrowserTestError("the popup does not say paired:\n\(context)")
        }
        return dialogs.last { $0["command"] as? String == "MESSAGE" } ?? [:]
    }

    /// Clicks "Se connecter avec la carte CPS" on the demo's login page; returns what the page says.
    func clickLogin() throws -> String {
        try driver.open(relyingPartyOrigin + "/")
        try driver.click("#login")
        guard let text = try driver.wait("#status", matching: "^(Connecté|Échec)", timeout: 90) else {
            throw BrowserTestError("the login page never finished:\n\(context)")
        }
        return text
    }

    /// Asks a token through the page library on the demo's page (open), with a nonce the demo issued, from
    /// a click (`withClick`, as the demo's button does) or from a script the user did nothing for.
    func authenticateOnDemoPage(options: String = "{}", withClick: Bool = true) throws -> BrowserDriver.Outcome {
        let script = """
            const response = await fetch('/auth/challenge', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json'}, body: '{}'});
            const challenge = await response.json();
            return await CpsBridge.authenticate(challenge.challengeNonce, \(options));
            """
        return try withClick ? driver.runOnClick(script, timeout: 120) : driver.run(script, timeout: 120)
    }
}
