#!/usr/bin/python3
"""Drives a headless browser with the cpsd WebExtension for the integration tests.

Usage: browser-driver.py --browser chromium|firefox --extension DIR --profile DIR [--no-extension]

Chromium runs through Debian's chromedriver and Selenium (Selenium's own driver download, Selenium
Manager, is never used). Firefox ESR runs through Marionette, its built-in remote protocol, spoken
directly (Debian has no geckodriver); the extension is installed as a temporary add-on, its
moz-extension uuid fixed by a preference. The driver answers JSON commands read one per line on stdin,
one JSON line each on stdout:

  {"cmd": "open", "url": U}                          -> {"ok": true, "url": current URL}
  {"cmd": "eval", "script": S, "timeout": s}         -> {"ok": true, "value": V}
      S is the body of an async function; its return value (JSON) is V. A throw gives
      {"ok": false, "error": "script", "detail": {name, message, code, retriesLeft}}.
  {"cmd": "click", "css": C}                         -> {"ok": true}
  {"cmd": "type", "css": C, "text": T}               -> {"ok": true} (the field is cleared first)
  {"cmd": "wait", "css": C, "pattern": RE, "attribute": A?, "timeout": s}
                                                     -> {"ok": true, "text": what matched}
  {"cmd": "extensions"}                              -> {"ok": true, "ids": [...]}
  {"cmd": "quit"}                                    -> {"ok": true}, then exits
Failures: {"ok": false, "error": kind, "message": M}. The first line says {"ready": true, "popupURL": …}
or {"ok": false, "error": "start", …}. End of stdin (the test process died) closes the browser too.

TLS trust comes from NSS databases only ($HOME/.pki/nssdb for Chromium, the profile's for Firefox):
no certificate error is ever ignored.
"""
import argparse
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_sessions import ChromiumSession, CommandError, FirefoxSession  # noqa: E402


def wait_for(session, css, pattern, attribute, timeout):
    deadline = time.monotonic() + timeout
    expression = re.compile(pattern)
    text = None
    while time.monotonic() < deadline:
        text = session.read(css, attribute)
        if text is not None and expression.search(text):
            return {"ok": True, "text": text}
        time.sleep(0.1)
    return {"ok": False, "error": "timeout", "message": f"{css} never matched {pattern!r}; last: {text!r}"}


def handle(session, command):
    name = command.get("cmd")
    if name == "open":
        return {"ok": True, "url": session.open(command["url"])}
    if name == "eval":
        return session.eval(command["script"], command.get("timeout", 30))
    if name == "click":
        session.click(command["css"])
        return {"ok": True}
    if name == "type":
        session.type(command["css"], command["text"])
        return {"ok": True}
    if name == "wait":
        return wait_for(session, command["css"], command["pattern"], command.get("attribute"),
                        command.get("timeout", 30))
    if name == "extensions":
        return {"ok": True, "ids": session.extension_ids()}
    return {"ok": False, "error": "command", "message": f"unknown command {name!r}"}


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--browser", choices=["chromium", "firefox"], default="chromium")
    parser.add_argument("--extension", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--no-extension", action="store_true")
    arguments = parser.parse_args()
    # Lead a process group of our own, so the test can stop the browser with us if we hang.
    if os.getpgid(0) != os.getpid():
        os.setsid()
    os.makedirs(arguments.profile, exist_ok=True)
    try:
        session = ChromiumSession(arguments) if arguments.browser == "chromium" else FirefoxSession(arguments)
    except Exception as error:  # noqa: BLE001 — whatever stopped the browser, the test gets it in words
        reply({"ok": False, "error": "start", "message": f"{type(error).__name__}: {error}"})
        return 1
    try:
        reply({"ready": True, "popupURL": session.popup_url})
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            if command.get("cmd") == "quit":
                reply({"ok": True})
                break
            try:
                reply(handle(session, command))
            except CommandError as error:
                reply({"ok": False, "error": error.kind, "message": str(error)})
            except Exception as error:  # noqa: BLE001 — Selenium's and the socket's errors alike
                reply({"ok": False, "error": type(error).__name__, "message": str(error)})
    finally:
        session.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
