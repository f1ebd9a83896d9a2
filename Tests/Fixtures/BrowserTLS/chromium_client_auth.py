#!/usr/bin/python3
"""Drives Debian's Chromium (chromedriver + Selenium) to a page that requires TLS client
authentication, typing the card's PIN into Chromium's own "Unlock Security Device" dialog.

Why a window and not --headless: Chromium asks a PKCS#11 token's PIN through NSS's password callback
(PKCS11PasswordFunc), which calls the browser's crypto-module password delegate, a modal dialog of
the browser UI. Headless Chromium creates that dialog too, but no input can reach it, and the page
load waits forever. So Chromium runs with windows on a private Xvfb display and the PIN is typed into
the dialog with xdotool (browser_session.PinTyper).

The certificate is chosen by the AutoSelectCertificateForUrls policy, which the caller installs in
/etc/chromium/policies/managed/ (Chromium reads managed policies only from there).

Usage: chromium_client_auth.py --url URL --work-dir DIR [--timeout SECONDS]
The PIN is the first line of standard input. HOME (HOME/.pki/nssdb is Chromium's NSS database) and
P11_KIT_SERVER_ADDRESS come from the environment. Prints one JSON object on stdout: ok, subject,
protocol, pinDialogs, typedPin, windows, error. Logs: DIR/chromedriver.log and
DIR/chromium-browser.log.
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_session  # noqa: E402

PIN_DIALOG = "^Unlock Security Device$"


def chromium_options(work_dir):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/lib/chromium/chromium"
    for flag in [
        f"--user-data-dir={work_dir}/chromium-profile",  # a fresh profile; NSS still uses HOME/.pki/nssdb
        "--lang=en-US",  # the PIN dialog is found by its English title
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",  # no desktop keyring on the private display
        "--ozone-platform=x11",  # windows on the Xvfb display, whatever else the environment says
        "--disable-gpu",
        "--enable-logging",  # Chromium's own log (NSS and TLS errors) in a file of the work directory
        f"--log-file={work_dir}/chromium-browser.log",
        "--v=0",
    ]:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return options


def main():
    browser_session.lead_process_group()
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--timeout", type=float, default=90)
    arguments = parser.parse_args()
    pin = browser_session.read_pin()
    deadline = time.time() + arguments.timeout
    result = {"ok": False, "subject": None, "protocol": None, "pinDialogs": 0, "typedPin": False,
              "windows": [], "error": None}

    xvfb, display = browser_session.start_xvfb()
    os.environ["DISPLAY"] = display
    os.environ["LANGUAGE"] = "en_US"
    browser_session.log(f"Xvfb on {display}")
    driver = None
    typer = browser_session.PinTyper(pin, deadline, PIN_DIALOG)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        # An explicit chromedriver: Selenium Manager (which would download one) never runs.
        service = Service("/usr/bin/chromedriver", log_path=f"{arguments.work_dir}/chromedriver.log")
        driver = webdriver.Chrome(service=service, options=chromium_options(arguments.work_dir))
        driver.set_page_load_timeout(max(10, deadline - time.time()))
        typer.start()
        browser_session.log(f"loading {arguments.url}")
        driver.get(arguments.url)
        result["subject"], result["protocol"] = browser_session.page_fields(driver.page_source)
        result["ok"] = result["subject"] is not None
        if not result["ok"]:
            result["error"] = "the page has no client certificate subject"
            result["pageSource"] = driver.page_source[:2000]
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        result["error"] = f"{type(error).__name__}: {first_line}"
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
        if driver is not None:
            try:
                driver.quit()
            except Exception as error:
                browser_session.log(f"quit: {error}")
        browser_session.stop_process(xvfb)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
