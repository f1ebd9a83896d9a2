#!/usr/bin/python3
"""Drives Debian's Firefox ESR through Marionette to a page that requires TLS client authentication,
typing the card's PIN into Firefox's own "Password Required" dialog.

Debian 12 has no geckodriver, so this speaks Marionette (Firefox's built-in remote protocol,
enabled by -marionette) directly: length-prefixed JSON arrays over TCP. Like Chromium, Firefox asks
for the token's PIN with a modal dialog of its UI, so it runs with windows on a private Xvfb display
and the PIN is typed into that dialog with xdotool (browser_session.PinTyper).

The profile must exist, with cpsd's module registered by `cpsctl setup`; this script adds a user.js
that chooses the client certificate automatically (security.default_personal_cert) and sets the
Marionette port.

Usage: firefox_client_auth.py --url URL --profile DIR --work-dir DIR [--timeout SECONDS]
The PIN is the first line of standard input. P11_KIT_SERVER_ADDRESS comes from the environment.
Prints one JSON object on stdout (as chromium_client_auth.py). Firefox's output: DIR/firefox.log.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import browser_session  # noqa: E402
from marionette import MarionetteClient, free_port  # noqa: E402

PIN_DIALOG = "^Password Required"

PREFERENCES = {
    # What a Pro Santé Connect user sets (or the ANS extension's documentation asks for): no
    # certificate chooser when one certificate fits.
    "security.default_personal_cert": "Select Automatically",
    "browser.shell.checkDefaultBrowser": False,
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
}




def write_user_js(profile, marionette_port):
    lines = [f'user_pref("{name}", {json.dumps(value)});' for name, value in PREFERENCES.items()]
    lines.append(f'user_pref("marionette.port", {marionette_port});')
    with open(os.path.join(profile, "user.js"), "w") as user_js:
        user_js.write("\n".join(lines) + "\n")


def main():
    browser_session.lead_process_group()
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--timeout", type=float, default=90)
    arguments = parser.parse_args()
    pin = browser_session.read_pin()
    deadline = time.time() + arguments.timeout
    result = {"ok": False, "subject": None, "protocol": None, "pinDialogs": 0, "typedPin": False,
              "windows": [], "error": None}

    port = free_port()
    write_user_js(arguments.profile, port)
    xvfb, display = browser_session.start_xvfb()
    environment = dict(os.environ, DISPLAY=display, LANGUAGE="en_US", MOZ_CRASHREPORTER_DISABLE="1")
    browser_session.log(f"Xvfb on {display}, Marionette on port {port}")
    firefox_log = open(os.path.join(arguments.work_dir, "firefox.log"), "wb")
    firefox = subprocess.Popen(
        ["/usr/lib/firefox-esr/firefox-esr", "-no-remote", "-marionette", "-profile", arguments.profile],
        env=environment, stdin=subprocess.DEVNULL, stdout=firefox_log, stderr=subprocess.STDOUT)
    os.environ["DISPLAY"] = display  # for xdotool
    typer = browser_session.PinTyper(pin, deadline, PIN_DIALOG)
    marionette = None
    try:
        marionette = MarionetteClient(port, time.monotonic() + max(0, deadline - time.time()))
        # Marionette sees the PIN dialog as a user prompt: "ignore" keeps it from dismissing it, and
        # makes Navigate return while the dialog is up, so the page is then awaited by polling.
        capabilities = {"acceptInsecureCerts": False, "unhandledPromptBehavior": "ignore"}
        marionette.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": capabilities}})
        typer.start()
        browser_session.log(f"loading {arguments.url}")
        marionette.command("WebDriver:Navigate", {"url": arguments.url}, timeout=max(10, deadline - time.time()))
        source = ""
        while True:
            try:
                source = marionette.command("WebDriver:GetPageSource", timeout=30)["value"]
            except RuntimeError as error:  # "unexpected alert open" while the PIN dialog is up
                browser_session.log(f"page not readable yet: {error}")
            result["subject"], result["protocol"] = browser_session.page_fields(source)
            if result["subject"] is not None or time.time() > deadline:
                break
            time.sleep(0.5)
        result["ok"] = result["subject"] is not None
        if not result["ok"]:
            result["error"] = "the page has no client certificate subject"
            result["pageSource"] = source[:2000]
    except Exception as error:
        result["error"] = f"{type(error).__name__}: {error}"
        try:
            result["windows"] = browser_session.window_names()
        except Exception:
            pass
    finally:
        typer.stop.set()
        result["pinDialogs"] = typer.dialogs
        result["typedPin"] = typer.typed
        if typer.error:
            result["error"] = (result["error"] or "") + f" (PIN typer: {typer.error})"
        if marionette is not None:
            try:
                marionette.command("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=10)
            except Exception as error:
                browser_session.log(f"quit: {error}")
        browser_session.stop_process(firefox, timeout=15)
        browser_session.stop_process(xvfb)
        firefox_log.close()
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
