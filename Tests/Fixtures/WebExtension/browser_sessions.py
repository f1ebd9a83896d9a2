"""The browsers behind browser-driver.py: Chromium through chromedriver and Selenium, Firefox ESR through
Marionette. Both offer open, eval, click, type, read, extension_ids and quit."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from marionette import MarionetteClient, MarionetteError, free_port  # noqa: E402  (Tests/Fixtures)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FIREFOX = "/usr/bin/firefox-esr"
CHROMIUM_EXTENSION_ID = "bbdifahjkphgjdfopbedhkhkaijgdhbk"  # fixed by the manifest's key
FIREFOX_ADDON_ID = "cpsd-bridge@cpsd.invalid"
FIREFOX_EXTENSION_UUID = "6f0c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5"  # what moz-extension:// shows, fixed here

# Runs the command's body as an async function and reports its value or what it threw.
EVAL_WRAPPER = """
const done = arguments[arguments.length - 1];
(async () => { %s })().then(
  (value) => done({ok: true, value: value === undefined ? null : value}),
  (error) => done({ok: false, error: "script", detail: {
    name: error && error.name, message: error && error.message ? String(error.message) : String(error),
    code: error && error.code, retriesLeft: error && error.retriesLeft}}));
"""


class CommandError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class ChromiumSession:
    def __init__(self, arguments):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        flags = [
            "--headless=new", f"--user-data-dir={arguments.profile}", "--no-first-run",
            "--no-default-browser-check", "--password-store=basic", "--disable-dev-shm-usage", "--lang=fr",
        ]
        if os.getuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        if not arguments.no_extension:
            # Debian's Chromium 156 honours --load-extension as is; the feature switch keeps it working if a
            # later build turns the command-line switch off by default, as Google's Chrome did.
            flags += [
                f"--load-extension={arguments.extension}", f"--disable-extensions-except={arguments.extension}",
                "--disable-features=DisableLoadExtensionCommandLineSwitch",
            ]
        for flag in flags:
            options.add_argument(flag)
        service = Service(CHROMEDRIVER, log_output=os.path.join(arguments.profile, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.popup_url = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/popup.html"

    def open(self, url):
        self.driver.get(url)
        return self.driver.current_url

    def eval(self, script, timeout):
        self.driver.set_script_timeout(timeout)
        return self.driver.execute_async_script(EVAL_WRAPPER % script)

    def element(self, css):
        from selenium.webdriver.common.by import By
        elements = self.driver.find_elements(By.CSS_SELECTOR, css)
        return elements[0] if elements else None

    def click(self, css):
        self.required(css).click()

    def type(self, css, text):
        field = self.required(css)
        field.clear()
        field.send_keys(text)

    def read(self, css, attribute):
        element = self.element(css)
        if element is None:
            return None
        return element.get_attribute(attribute) if attribute else element.text

    def required(self, css):
        element = self.element(css)
        if element is None:
            raise CommandError("element", f"no element {css}")
        return element

    def extension_ids(self):
        self.driver.get("chrome://extensions")
        time.sleep(0.5)
        return self.driver.execute_script(
            """const manager = document.querySelector('extensions-manager');
               const list = manager && manager.shadowRoot.querySelector('extensions-item-list');
               return list ? [...list.shadowRoot.querySelectorAll('extensions-item')].map((item) => item.id) : null;""")

    def quit(self):
        self.driver.quit()


class FirefoxSession:
    """Firefox through Marionette (`Tests/Fixtures/marionette.py`)."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, arguments):
        port = free_port()
        preferences = {
            "marionette.port": port,
            "extensions.webextensions.uuids": json.dumps({FIREFOX_ADDON_ID: FIREFOX_EXTENSION_UUID}),
            "browser.shell.checkDefaultBrowser": False,
            "browser.aboutwelcome.enabled": False,
            "datareporting.policy.dataSubmissionEnabled": False,
            "toolkit.telemetry.reportingpolicy.firstRun": False,
            "app.update.disabledForTesting": True,
            "intl.locale.requested": "fr",
        }
        with open(os.path.join(arguments.profile, "user.js"), "w", encoding="utf-8") as user:
            for key, value in preferences.items():
                user.write(f"user_pref({json.dumps(key)}, {json.dumps(value)});\n")
        log = open(os.path.join(arguments.profile, "firefox.log"), "w")
        self.process = subprocess.Popen(
            [FIREFOX, "-headless", "-marionette", "-remote-allow-system-access", "-no-remote", "-profile",
             arguments.profile], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self.client = MarionetteClient(port, time.monotonic() + 60, alive=lambda: self.process.poll() is None)
        except MarionetteError as error:
            raise CommandError(error.error, error.message)
        self.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
        if not arguments.no_extension:
            self.command("Addon:Install", {"path": arguments.extension, "temporary": True})
        self.popup_url = f"moz-extension://{FIREFOX_EXTENSION_UUID}/popup.html"

    def command(self, name, parameters=None, timeout=60):
        try:
            result = self.client.command(name, parameters, timeout)
        except MarionetteError as error:
            raise CommandError(error.error, error.message)
        return result.get("value") if isinstance(result, dict) and "value" in result else result

    def open(self, url):
        if url.startswith("moz-extension:"):
            # WebDriver may not navigate to extension pages; the browser's own code may.
            self.command("Marionette:SetContext", {"value": "chrome"})
            try:
                self.command("WebDriver:ExecuteScript", {"script": "openTrustedLinkIn(arguments[0], 'current');",
                                                         "args": [url]})
            finally:
                self.command("Marionette:SetContext", {"value": "content"})
            deadline = time.monotonic() + 10
            while self.command("WebDriver:GetCurrentURL") != url and time.monotonic() < deadline:
                time.sleep(0.1)
        else:
            self.command("WebDriver:Navigate", {"url": url})
        return self.command("WebDriver:GetCurrentURL")

    def eval(self, script, timeout):
        self.command("WebDriver:SetTimeouts", {"script": int(timeout * 1000)})
        return self.command("WebDriver:ExecuteAsyncScript", {"script": EVAL_WRAPPER % script, "args": []},
                            timeout=timeout + 10)

    def element(self, css):
        try:
            return self.command("WebDriver:FindElement", {"using": "css selector", "value": css})[self.ELEMENT]
        except CommandError as error:
            if error.kind == "no such element":
                return None
            raise

    def required(self, css):
        element = self.element(css)
        if element is None:
            raise CommandError("element", f"no element {css}")
        return element

    def click(self, css):
        self.command("WebDriver:ElementClick", {"id": self.required(css)})

    def type(self, css, text):
        element = self.required(css)
        self.command("WebDriver:ElementClear", {"id": element})
        self.command("WebDriver:ElementSendKeys", {"id": element, "text": text})

    def read(self, css, attribute):
        element = self.element(css)
        if element is None:
            return None
        if attribute:
            return self.command("WebDriver:GetElementAttribute", {"id": element, "name": attribute})
        return self.command("WebDriver:GetElementText", {"id": element})

    def extension_ids(self):
        self.command("Marionette:SetContext", {"value": "chrome"})
        try:
            return self.command("WebDriver:ExecuteAsyncScript", {"script": """
                const done = arguments[arguments.length - 1];
                const {AddonManager} = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
                AddonManager.getAddonsByTypes(["extension"]).then((addons) => done(addons.map((addon) => addon.id)));
                """, "args": []})
        finally:
            self.command("Marionette:SetContext", {"value": "content"})

    def quit(self):
        try:
            self.command("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=20)
        except (CommandError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


