#!/usr/bin/python3
"""Seed traffic for the RPC fuzzer: a PyKCS11 session that never logs in, touching the calls a browser
makes (slots, token, mechanisms, objects, attributes, a refused signature, random, digest).
Every error is expected and ignored: only the frames on the wire matter."""
import sys

import PyKCS11

lib = PyKCS11.PyKCS11Lib()
lib.load(sys.argv[1])


def attempt(action):
    try:
        return action()
    except PyKCS11.PyKCS11Error:
        return None


for slot in lib.getSlotList(tokenPresent=False):
    attempt(lambda: lib.getSlotInfo(slot))
    attempt(lambda: lib.getTokenInfo(slot))
    for mechanism in attempt(lambda: lib.getMechanismList(slot)) or []:
        attempt(lambda: lib.getMechanismInfo(slot, mechanism))
    session = attempt(lambda: lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION))
    if session is None:
        continue
    attempt(session.getSessionInfo)
    objects = attempt(lambda: session.findObjects()) or []
    for handle in objects:
        attempt(lambda: session.getAttributeValue(handle, [PyKCS11.CKA_CLASS, PyKCS11.CKA_LABEL, PyKCS11.CKA_ID,
                                                           PyKCS11.CKA_VALUE, PyKCS11.CKA_MODULUS]))
    keys = attempt(lambda: session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY)])) or []
    for key in keys[:1]:
        attempt(lambda: session.sign(key, b"seed", PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None)))
        attempt(lambda: session.sign(key, b"\x30" * 51, PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None)))
    attempt(lambda: session.generateRandom(16))
    attempt(lambda: session.digest(b"seed", PyKCS11.Mechanism(PyKCS11.CKM_SHA256, None)))
    attempt(session.logout)
    attempt(session.closeSession)
    attempt(lambda: lib.closeAllSessions(slot))
