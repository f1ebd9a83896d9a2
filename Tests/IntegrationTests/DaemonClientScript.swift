/// A PyKCS11 client driven line by line: each stdin line is a JSON command, each answer one JSON line
/// on stdout (`{"ok": true, ...}` or `{"ok": false, "error": "CKR_..."}`). One client per process: the
/// p11-kit client module keeps per-process state, so two processes are two honest PKCS#11 consumers.
enum DaemonClientScript {
    static let source = #"""
        import binascii, json, sys
        import PyKCS11
        from PyKCS11 import LowLevel

        lib = PyKCS11.PyKCS11Lib()
        lib.load(sys.argv[1])
        session = None
        MECHS = {
            "RSA_PKCS": PyKCS11.CKM_RSA_PKCS,
            "SHA1_RSA_PKCS": PyKCS11.CKM_SHA1_RSA_PKCS,
            "SHA256_RSA_PKCS": PyKCS11.CKM_SHA256_RSA_PKCS,
        }

        def ckr(error):
            return PyKCS11.CKR.get(error.value, "CKR_0x%08X" % error.value)

        def slots():
            result = []
            for slot in lib.getSlotList(tokenPresent=True):
                info = lib.getTokenInfo(slot)
                result.append({"slot": slot, "label": info.label.strip(),
                               "manufacturer": info.manufacturerID.strip()})
            return result

        def private_keys():
            found = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)])
            keys = []
            for key in found:
                label, ident = session.getAttributeValue(key, [PyKCS11.CKA_LABEL, PyKCS11.CKA_ID])
                keys.append({"handle": key.value(), "label": label, "id": bytes(ident).hex()})
            return keys

        def key_handle(command):
            if "handle" in command:
                key = PyKCS11.CK_OBJECT_HANDLE(session)
                key.assign(command["handle"])
                return key
            wanted = binascii.unhexlify(command["id"])
            found = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_ID, wanted)])
            return found[0] if found else None

        def run(command):
            global session
            op = command["op"]
            if op == "slots":
                # C_GetSlotList is two calls (count, then list): if the list grows in between, the second
                # returns CKR_BUFFER_TOO_SMALL and the application asks again (PKCS#11 5.5).
                for retry in range(50):
                    try:
                        return {"slots": slots(), "retries": retry}
                    except PyKCS11.PyKCS11Error as error:
                        if error.value != PyKCS11.CKR_BUFFER_TOO_SMALL:
                            raise
                        last = error
                raise last
            if op == "open":
                candidates = [s for s in slots() if s["manufacturer"] == "ASIP SANTE"
                              and command.get("slot", s["slot"]) == s["slot"]]
                if not candidates:
                    return {"ok": False, "error": "NO_TOKEN"}
                flags = PyKCS11.CKF_SERIAL_SESSION | (PyKCS11.CKF_RW_SESSION if command.get("rw") else 0)
                session = lib.openSession(candidates[0]["slot"], flags)
                return {"slot": candidates[0]["slot"]}
            if op == "login":
                session.login(command["pin"], PyKCS11.CKU_SO if command.get("so") else PyKCS11.CKU_USER)
                return {}
            if op == "logout":
                session.logout()
                return {}
            if op == "keys":
                return {"keys": private_keys()}
            if op == "sign":
                key = key_handle(command)
                if key is None:
                    return {"ok": False, "error": "NO_KEY"}
                data = binascii.unhexlify(command["data"])
                signature = session.sign(key, data, PyKCS11.Mechanism(MECHS[command["mech"]], None))
                return {"signature": bytes(signature).hex()}
            if op == "signloop":
                key = key_handle(command)
                print(json.dumps({"ok": True, "started": True}), flush=True)
                count = 0
                while True:
                    session.sign(key, b"loop %d" % count, PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None))
                    count += 1
            if op == "close":
                session.closeSession()
                session = None
                return {}
            return {"ok": False, "error": "UNKNOWN_OP"}

        for line in sys.stdin:
            try:
                answer = run(json.loads(line))
                answer.setdefault("ok", True)
            except PyKCS11.PyKCS11Error as error:
                answer = {"ok": False, "error": ckr(error)}
            except Exception as error:
                answer = {"ok": False, "error": "PYTHON:%s" % error}
            print(json.dumps(answer), flush=True)
        """#
}
