#!/usr/bin/python3
"""A PyKCS11 client for the fault campaign, driven by JSON lines on stdin (one answer line each).

One process per client: p11-kit-client.so keeps per-process state, so two processes are two honest
PKCS#11 consumers of cpsd. The PIN arrives on stdin, never on a command line.

usage: p11client.py MODULE        (P11_KIT_SERVER_ADDRESS names cpsd's socket)
ops: {"op": "open"} {"op": "login", "pin": "…"} {"op": "sign"} {"op": "signloop"} {"op": "close"}
"""
import hashlib
import json
import sys

import PyKCS11

AUTH_KEY_LABEL = "CPS_PRIV_AUT"
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
lib = PyKCS11.PyKCS11Lib()
lib.load(sys.argv[1])
session = None


def ckr(error):
    return PyKCS11.CKR.get(error.value, "CKR_0x%08X" % error.value)


def auth_key():
    """The authentication key: private objects are listed only after login, so the key may be missing."""
    found = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
                                 (PyKCS11.CKA_LABEL, AUTH_KEY_LABEL)])
    return found[0] if found else None


def sign(data):
    """CKM_RSA_PKCS over a SHA-256 DigestInfo: what a browser's TLS client authentication asks of the key."""
    key = auth_key()
    if key is None:
        return {"ok": False, "error": "NO_KEY"}
    digest_info = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(data).digest()
    signature = session.sign(key, digest_info, PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None))
    return {"ok": True, "length": len(signature)}


def run(command):
    global session
    op = command["op"]
    if op == "open":
        # All slots, then the token of each: with no token anywhere, getSlotList(tokenPresent=True) hits
        # p11-kit-client's zero-length-buffer quirk (CKR_BUFFER_TOO_SMALL), which says nothing of cpsd.
        slots = []
        for slot in lib.getSlotList(tokenPresent=False):
            try:
                if lib.getTokenInfo(slot).manufacturerID.strip() == "ASIP SANTE":
                    slots.append(slot)
            except PyKCS11.PyKCS11Error:
                continue
        if not slots:
            return {"ok": False, "error": "NO_TOKEN"}
        session = lib.openSession(slots[0], PyKCS11.CKF_SERIAL_SESSION)
        return {"ok": True}
    if op == "login":
        session.login(command["pin"])
        return {"ok": True}
    if op == "sign":
        return sign(b"fault campaign")
    if op == "signloop":
        # Signs until killed or until an error; says it started so the driver can strike mid-operation.
        print(json.dumps({"ok": True, "started": True}), flush=True)
        count = 0
        while True:
            sign(b"loop %d" % count)
            count += 1
    if op == "close":
        session.closeSession()
        session = None
        return {"ok": True}
    return {"ok": False, "error": "UNKNOWN_OP"}


for line in sys.stdin:
    try:
        answer = run(json.loads(line))
    except PyKCS11.PyKCS11Error as error:
        answer = {"ok": False, "error": ckr(error)}
    except Exception as error:  # noqa: BLE001 — reported to the driver, which decides
        answer = {"ok": False, "error": "PYTHON:%s" % error}
    print(json.dumps(answer), flush=True)
