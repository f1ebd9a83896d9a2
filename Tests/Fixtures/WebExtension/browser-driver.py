#!/usr/bin/python3
"""Drives a headless Chromium with the cpsd WebExtension for the integration tests.

Usage: browser-driver.py --extension DIR --profile DIR [--no-extension]

Starts Chromium through Debian's chromedriver (Selenium's own driver download, Selenium Manager, is
never used), then answers JSON commands read one per line on stdin, one JSON line each on stdout:

  {"cmd": "open", "url": U}                          -> {"ok": true, "url": current URL, "title": T}
  {"cmd": "eval", "script": S, "timeout": s}         -> {"ok": true, "value": V}
      S is the body of an async function; its return value (JSON) is V. A throw gives
      {"ok": false, "error": "script", "detail": {name, message, code, retriesLeft}}.
  {"cmd": "click", "css": C}                         -> {"ok": true}
  {"cmd": "type", "css": C, "text": T}               -> {"ok": true} (the field is cleared first)
  {"cmd": "wait", "css": C, "pattern": RE, "attribute": A?, "timeout": s}
                                                     -> {"ok": true, "text": what matched}
  {"cmd": "extensions"}                              -> {"ok": true, "ids": [...]} (chrome://extensions)
  {"cmd": "quit"}                                    -> {"ok": true}, then exits
Failures: {"ok": false, "error": kind, "message": M}. The first line says {"ready": true, ...} or
{"ok": false, "error": "start", ...}. End of stdin (the test process died) quits Chromium too.

The TLS trust comes from the NSS database in $HOME/.pki/nssdb: no certificate error is ignored.
"""
import argparse
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def start(arguments):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = [
        "--headless=new",
        f"--user-data-dir={arguments.profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",
        "--disable-dev-shm-usage",
        "--lang=fr",
    ]
    if os.getuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    if not arguments.no_extension:
        # Debian's Chromium 156 honours --load-extension as is; the feature switch keeps it working if a
        # later build turns the command-line switch off by default, as Google's Chrome did.
        flags += [
            f"--load-extension={arguments.extension}",
            f"--disable-extensions-except={arguments.extension}",
            "--disable-features=DisableLoadExtensionCommandLineSwitch",
        ]
    for flag in flags:
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, log_output=os.path.join(arguments.profile, "chromedriver.log"))
    return webdriver.Chrome(service=service, options=options)


# The async-script wrapper: runs the command's body, reports its value or the error it threw.
EVAL_WRAPPER = """
const done = arguments[arguments.length - 1];
(async () => { %s })().then(
  (value) => done({ok: true, value: value === undefined ? null : value}),
  (error) => done({ok: false, error: "script", detail: {
    name: error && error.name, message: error && error.message ? String(error.message) : String(error),
    code: error && error.code, retriesLeft: error && error.retriesLeft}}));
"""


def wait_for(driver, css, pattern, attribute, timeout):
    deadline = time.monotonic() + timeout
    expression = re.compile(pattern)
    text = None
    while time.monotonic() < deadline:
        elements = driver.find_elements(By.CSS_SELECTOR, css)
        if elements:
            element = elements[0]
            text = element.get_attribute(attribute) if attribute else element.text
            if text is not None and expression.search(text):
                return {"ok": True, "text": text}
        time.sleep(0.1)
    return {"ok": False, "error": "timeout", "message": f"{css} never matched {pattern!r}; last: {text!r}"}


def extension_ids(driver):
    driver.get("chrome://extensions")
    time.sleep(0.5)
    return driver.execute_script(
        """const manager = document.querySelector('extensions-manager');
           const list = manager && manager.shadowRoot.querySelector('extensions-item-list');
           return list ? [...list.shadowRoot.querySelectorAll('extensions-item')].map((item) => item.id) : null;""")


def handle(driver, command):
    name = command.get("cmd")
    if name == "open":
        driver.get(command["url"])
        return {"ok": True, "url": driver.current_url, "title": driver.title}
    if name == "eval":
        driver.set_script_timeout(command.get("timeout", 30))
        return driver.execute_async_script(EVAL_WRAPPER % command["script"])
    if name == "click":
        driver.find_element(By.CSS_SELECTOR, command["css"]).click()
        return {"ok": True}
    if name == "type":
        field = driver.find_element(By.CSS_SELECTOR, command["css"])
        field.clear()
        field.send_keys(command["text"])
        return {"ok": True}
    if name == "wait":
        return wait_for(driver, command["css"], command["pattern"], command.get("attribute"), command.get("timeout", 30))
    if name == "extensions":
        return {"ok": True, "ids": extension_ids(driver)}
    return {"ok": False, "error": "command", "message": f"unknown command {name!r}"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--extension", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--no-extension", action="store_true")
    arguments = parser.parse_args()
    # Own process group, so the test can stop chromedriver and Chromium with us if we hang.
    try:
        os.setsid()
    except OSError:
        pass  # already a group leader
    try:
        driver = start(arguments)
    except WebDriverException as error:
        reply({"ok": False, "error": "start", "message": str(error)})
        return 1
    try:
        reply({"ready": True, "browserVersion": driver.capabilities.get("browserVersion")})
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            if command.get("cmd") == "quit":
                reply({"ok": True})
                break
            try:
                reply(handle(driver, command))
            except TimeoutException as error:
                reply({"ok": False, "error": "timeout", "message": str(error)})
            except JavascriptException as error:
                reply({"ok": False, "error": "javascript", "message": str(error)})
            except WebDriverException as error:
                reply({"ok": False, "error": "webdriver", "message": str(error)})
            except (KeyError, TypeError, ValueError) as error:
                reply({"ok": False, "error": "command", "message": repr(error)})
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
