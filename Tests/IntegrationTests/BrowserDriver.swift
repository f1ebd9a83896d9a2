import Foundation
import Glibc

/// The browser driver (Tests/Fixtures/WebExtension/browser-driver.py) and the headless Chromium or
/// Firefox it starts, driven with JSON lines. The browser runs with `home`'s HOME and profile, so it
/// trusts what their NSS databases trust.
final class BrowserDriver {
    /// What a page script ended with: its return value, or the `code` (and tries left) it threw.
    enum Outcome: CustomStringConvertible {
        case value(Any)
        case failure(code: String, retriesLeft: Int?, message: String)

        var code: String? {
            if case .failure(let code, _, _) = self { return code }
            return nil
        }
        var value: Any? {
            if case .value(let value) = self { return value }
            return nil
        }
        var object: [String: Any]? { value as? [String: Any] }
        var bool: Bool? { value as? Bool }
        var description: String {
            switch self {
            case .value(let value): "value \(value)"
            case .failure(let code, let retriesLeft, let message):
                "\(code) (retriesLeft \(retriesLeft.map(String.init) ?? "none")): \(message)"
            }
        }
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private lazy var reader = JSONLineReader(fd: output.fileHandleForReading.fileDescriptor)
    private var stopped = false
    let logPath: String
    let browser: Browser
    /// The extension's popup page (its moz-extension uuid is fixed by the driver in Firefox).
    private(set) var popupURL = ""

    init(
        _ browser: Browser, home: WebExtensionHome, loadExtension: Bool = true, environment: [String: String] = [:]
    ) throws {
        self.browser = browser
        logPath = home.home.appendingPathComponent("driver-\(browser).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: DaemonTest.python)
        process.arguments = [
            WebExtensionTest.driverScript.path, "--browser", browser.rawValue, "--extension",
            WebExtensionTest.extensionDirectory.path, "--profile", home.profile(for: browser),
        ] + (loadExtension ? [] : ["--no-extension"])
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .merging(home.environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let ready = try readAnswer(timeout: 120)
        guard ready["ready"] as? Bool == true else {
            quit()
            throw BrowserTestError("the browser driver did not start: \(ready)\n\(log)")
        }
        popupURL = ready["popupURL"] as? String ?? ""
    }

    deinit { quit() }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends one command and returns its answer; throws when the driver dies or says nothing in `timeout`.
    @discardableResult
    func send(_ command: [String: Any], timeout: Double = 60) throws -> [String: Any] {
        let line = try JSONSerialization.data(withJSONObject: command) + Data([0x0A])
        try input.fileHandleForWriting.write(contentsOf: line)
        return try readAnswer(timeout: timeout)
    }

    /// Sends a command that must succeed.
    @discardableResult
    func require(_ command: [String: Any], timeout: Double = 60) throws -> [String: Any] {
        let answer = try send(command, timeout: timeout)
        guard answer["ok"] as? Bool == true else { throw BrowserTestError("\(command["cmd"] ?? "?"): \(answer)") }
        return answer
    }

    func open(_ url: String) throws { try require(["cmd": "open", "url": url]) }
    func click(_ css: String) throws { try require(["cmd": "click", "css": css]) }
    func type(_ css: String, _ text: String) throws { try require(["cmd": "type", "css": css, "text": text]) }

    /// Waits until the element's text (or `attribute`) matches `pattern`; returns it, or nil on timeout.
    func wait(
        _ css: String, matching pattern: String, attribute: String? = nil, timeout: Double = 30
    ) throws -> String? {
        var command: [String: Any] = ["cmd": "wait", "css": css, "pattern": pattern, "timeout": timeout]
        if let attribute { command["attribute"] = attribute }
        let answer = try send(command, timeout: timeout + 30)
        return answer["ok"] as? Bool == true ? answer["text"] as? String : nil
    }

    /// Runs `script` (the body of an async function) in the current page.
    func run(_ script: String, timeout: Double = 30) throws -> Outcome {
        let answer = try send(["cmd": "eval", "script": script, "timeout": timeout], timeout: timeout + 30)
        if answer["ok"] as? Bool == true { return .value(answer["value"] ?? NSNull()) }
        guard let detail = answer["detail"] as? [String: Any] else { throw BrowserTestError("eval: \(answer)") }
        return .failure(
            code: detail["code"] as? String ?? "(no code: \(detail["name"] ?? "?"))",
            retriesLeft: detail["retriesLeft"] as? Int, message: detail["message"] as? String ?? "")
    }

    /// Runs `script` (the body of an async function) in the current page from a click, as a page's own
    /// button handler does: the driver's click is a real user gesture (transient user activation), which a
    /// script the driver runs directly never has. Returns what the script ended with.
    func runOnClick(_ script: String, timeout: Double = 30) throws -> Outcome {
        let installed = try run(
            """
            const runs = window.cpsTestClickRuns || (window.cpsTestClickRuns = []);
            const slot = runs.length;
            runs.push(null);
            const button = document.createElement('button');
            button.id = 'cps-test-click-' + slot;
            button.textContent = 'test click ' + slot;
            button.addEventListener('click', () => {
              runs[slot] = (async () => { \(script)
              })().then(
                (value) => ({value: value === undefined ? null : value}),
                (error) => ({error: {code: error && error.code, message: String(error && error.message),
                                     retriesLeft: error && error.retriesLeft}}));
            }, {once: true});
            document.body.append(button);
            return button.id;
            """)
        guard let id = installed.value as? String else { throw BrowserTestError("runOnClick: \(installed)") }
        try click("#" + id)
        let slot = id.split(separator: "-").last.map(String.init) ?? "0"
        let outcome = try run(
            """
            const runs = window.cpsTestClickRuns;
            while (!runs[\(slot)]) await new Promise((resolve) => setTimeout(resolve, 20));
            const outcome = await runs[\(slot)];
            document.getElementById('\(id)').remove();
            if (outcome.error) throw Object.assign(new Error(outcome.error.message), outcome.error);
            return outcome.value;
            """, timeout: timeout)
        return outcome
    }

    /// Asks the driver to close the browser; if it does not within 20 s, kills its process group (the
    /// driver leads its own group, with chromedriver and the browser in it).
    func quit() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { _ = try? send(["cmd": "quit"], timeout: 20) }
        try? input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: 20)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(-process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private func readAnswer(timeout: Double) throws -> [String: Any] {
        try reader.next(timeout: timeout, who: "browser driver", context: log)
    }
}
