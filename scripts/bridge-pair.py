#!/usr/bin/python3
"""Pairs with cpsd's bridge as the extension's popup does, for the demo and the benchmarks.

The pairing code is shown by cpsd in a pinentry dialog; here the dialog is the scripted pinentry
(Tests/Fixtures/scripted-pinentry), whose log (CPSD_TEST_PINENTRY_LOG) is where we read the code,
as a user would read it on screen. Prints the bearer token.

usage: bridge-pair.py PORT CA_FILE PINENTRY_LOG
"""
import http.client
import json
import re
import ssl
import sys
import time

EXTENSION = "chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk"


def call(connection, path, body):
    connection.request("POST", path, body=json.dumps(body), headers={
        "Origin": EXTENSION, "X-CPS-Bridge": "1", "Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read() or b"{}")
    if response.status != 200:
        sys.exit(f"{path}: {response.status} {answer}")
    return answer


def message_dialogs(log_path):
    try:
        with open(log_path, encoding="utf-8") as log:
            dialogs = [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []
    return [dialog for dialog in dialogs if dialog.get("command") == "MESSAGE"]


def shown_code(log_path, earlier, deadline):
    """The code of the first pairing dialog shown after the `earlier` ones."""
    while time.time() < deadline:
        messages = message_dialogs(log_path)
        if len(messages) > earlier:
            match = re.search(r"(\d{3}) (\d{3})", messages[earlier].get("desc", ""))
            if match:
                return match.group(1) + match.group(2)
        time.sleep(0.05)
    sys.exit("no pairing dialog was shown")


def main():
    port, ca_file, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=ca_file)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    earlier = len(message_dialogs(log_path))
    pairing = call(connection, "/v1/pair/start", {})
    code = shown_code(log_path, earlier, time.time() + 10)
    token = call(connection, "/v1/pair/finish", {"pairingId": pairing["pairingId"], "code": code})["token"]
    print(token)


if __name__ == "__main__":
    main()
