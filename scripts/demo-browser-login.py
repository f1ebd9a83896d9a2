#!/usr/bin/python3
"""`make demo`'s browser part: a headless Chromium with the cpsd WebExtension logs in to the demo relying
party with the virtual card, as a practitioner would: set the bridge's port in the extension's popup,
pair (the code cpsd shows in its dialog is typed in the popup), open the login page, click "Se connecter
avec la carte CPS". cpsd asks the PIN with pinentry; here the scripted pinentry answers it.

usage: demo-browser-login.py BRIDGE_PORT DEMO_ORIGIN PINENTRY_LOG PROFILE_DIR
HOME must hold the NSS database where `cpsctl setup` trusted cpsd's CA (and the demo's CA was added).
"""
import json
import os
import re
import sys
import time
from types import SimpleNamespace

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Fixtures", "WebExtension"))
from browser_sessions import ChromiumSession  # noqa: E402  (the test suite's Chromium driver)


def wait(session, css, pattern, attribute=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = session.read(css, attribute)
        except Exception:  # the page is still loading
            value = None
        if value is not None and re.search(pattern, value):
            return value
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {css} {attribute or 'text'} ~ {pattern}")


def pairing_code(log_path, earlier):
    deadline = time.time() + 15
    while time.time() < deadline:
        if os.path.exists(log_path):
            with open(log_path, encoding="utf-8") as log:
                messages = [d for d in map(json.loads, filter(str.strip, log)) if d.get("command") == "MESSAGE"]
            if len(messages) > earlier:
                match = re.search(r"(\d{3}) (\d{3})", messages[earlier].get("desc", ""))
                if match:
                    print("  cpsd's dialog shows:", " ".join(messages[earlier]["desc"].split("\n")[0:2]))
                    return match.group(1) + match.group(2)
        time.sleep(0.1)
    sys.exit("cpsd showed no pairing dialog")


def count_messages(log_path):
    if not os.path.exists(log_path):
        return 0
    with open(log_path, encoding="utf-8") as log:
        return sum(1 for d in map(json.loads, filter(str.strip, log)) if d.get("command") == "MESSAGE")


def main():
    port, origin, log_path, profile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    extension = os.path.join(ROOT, "Packaging", "webextension")
    session = ChromiumSession(SimpleNamespace(profile=profile, extension=extension, no_extension=False))
    try:
        print("- the extension's popup: bridge port", port)
        session.open(session.popup_url)
        wait(session, "body", "^true$", "data-ready")
        session.eval("document.querySelector('#settings').open = true;", 10)
        session.type("#port", port)
        session.click("#port-save")
        wait(session, "#bridge", "^ok$", "data-state")
        print("- pairing: the popup asks, cpsd shows a code, the user types it in the popup")
        earlier = count_messages(log_path)
        session.click("#pair-start")
        session.type("#pair-code", pairing_code(log_path, earlier))
        session.click("#pair-submit")
        wait(session, "#paired", "^true$", "data-paired")
        print("- the demo's login page:", origin + "/")
        session.open(origin + "/")
        session.click("#login")
        print("- \"Se connecter avec la carte CPS\" clicked; cpsd asks the PIN (answered by the scripted pinentry)")
        status = wait(session, "#status", "^(Connecté|Échec)", timeout=90)
        print("- the page says:", status)
        if not status.startswith("Connecté"):
            sys.exit(1)
    finally:
        session.quit()


if __name__ == "__main__":
    main()
