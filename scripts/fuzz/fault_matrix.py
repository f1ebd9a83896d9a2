"""The fault matrix on the real stack: each fault strikes while a logged-in client signs in a loop.

Per scenario: cpsd survived (for SIGTERM: exited 0 and removed its socket), PIN tries lost (the card's
own count of refused VERIFYs, and its persisted counter), another client's login leaked (a second client
that never logged in tries to sign while the first is still connected, and after the fault), PIN bytes
in the part of cpsd's log written during the scenario. The core-file check comes last (core_check).
"""
import os
import re
import signal
import subprocess
import time

from rig import Client, well_formed_clients

TOKEN_TIMEOUT = 30


# Numbers cpsd logs that are not secrets, and may equal a 4-digit PIN by chance (after 100,000
# connections every 4-digit client number has been used): a match right after one of these is skipped.
COUNTERS = r"(?<!client#)(?<!pid )(?<!pid=)(?<!_ms=)(?<!port )(?<!slot=)(?<!:)"


def pin_patterns(pin):
    """The forms a PIN could take in a log: ASCII, hex of the ASCII (also padded), BCD F-padded, base64."""
    import base64
    ascii_hex = pin.encode().hex()
    spaced = " ".join(ascii_hex[i:i + 2] for i in range(0, len(ascii_hex), 2))
    return [re.compile(COUNTERS + r"(?<![0-9])%s(?![0-9])" % re.escape(pin)),
            re.compile(re.escape(ascii_hex), re.I), re.compile(re.escape(spaced), re.I),
            re.compile(re.escape(pin) + "f{2,}", re.I),
            re.compile(re.escape(base64.b64encode(pin.encode()).decode().rstrip("="))[:-1])]


def pin_hits(text, pin):
    """Lines of `text` holding the PIN in any form."""
    patterns = pin_patterns(pin)
    return [line for line in text.splitlines() if any(p.search(line) for p in patterns)]


class Scenario:
    def __init__(self, name, stack, daemon, pin):
        self.name, self.stack, self.daemon, self.pin = name, stack, daemon, pin
        self.log_offset = os.path.getsize(daemon.log_path)
        self.refused_before = stack.fault_stats()["verifyRefused"]
        self.tries_before = stack.pin_tries_left()
        self.leaks = 0
        self.kept = 0  # logins that survived the card's removal (README: the PIN is zeroed on removal)
        self.notes = []

    def signing_client(self):
        """A client logged in with the right PIN, signing in a loop (started)."""
        client = Client(self.daemon)
        for command in ({"op": "open"}, {"op": "login", "pin": self.pin}):
            answer = client.call(command)
            if not answer.get("ok"):
                self.notes.append("first client %s: %s" % (command["op"], answer.get("error")))
        client.send({"op": "signloop"})
        client.receive()
        time.sleep(0.4)  # some signatures done, one in flight
        return client

    def check_no_leak(self, when):
        """A second client that never logged in must not sign."""
        intruder = Client(self.daemon)
        try:
            answer = intruder.call({"op": "open"}, TOKEN_TIMEOUT)
            if answer.get("ok"):
                answer = intruder.call({"op": "sign"}, TOKEN_TIMEOUT)
                if answer.get("ok"):
                    self.leaks += 1
                    self.notes.append("LEAK %s: a client that never logged in signed" % when)
        finally:
            intruder.close()

    def wait_for_token(self):
        deadline = time.monotonic() + TOKEN_TIMEOUT
        while time.monotonic() < deadline:
            probe = Client(self.daemon)
            answer = probe.call({"op": "open"}, 10)
            probe.close()
            if answer.get("ok"):
                return True
            time.sleep(0.3)
        return False

    def finish(self, survived, served=None):
        with open(self.daemon.log_path, errors="replace") as file:
            file.seek(self.log_offset)
            log = file.read()
        hits = pin_hits(log, self.pin)
        if served is None and self.daemon.alive():
            # Served again within a few seconds of the fault; a failed first attempt is noted.
            for attempt in range(3):
                served, detail = well_formed_clients(self.daemon, self.pin)
                if served:
                    break
                self.notes.append("well-formed client, attempt %d: %s" % (attempt + 1, detail))
                time.sleep(1)
        return {"name": self.name, "survived": survived, "served": served,
                "triesLost": (self.stack.fault_stats()["verifyRefused"] - self.refused_before)
                + max(0, self.tries_before - self.stack.pin_tries_left()),
                "leaks": self.leaks, "kept": self.kept, "logPinHits": len(hits), "logPinLines": hits[:3], "notes": self.notes}


def card_pulled(stack, daemon, pin):
    s = Scenario("card pulled mid-signature", stack, daemon, pin)
    first = s.signing_client()
    stack.command("remove 0")
    answer = first.receive(TOKEN_TIMEOUT)
    s.notes.append("signer got %s" % answer.get("error", "ok"))
    s.check_no_leak("card out")
    stack.command("insert 0")
    s.wait_for_token()
    after = first.call({"op": "sign"})
    if after.get("ok"):
        s.notes.append("LOGIN KEPT: the first client still signs after removal and reinsertion, without a new login")
        s.kept += 1
    s.check_no_leak("card back")
    first.close()
    return s.finish(daemon.alive())


def reader_gone(stack, daemon, pin):
    s = Scenario("reader gone (pcscd SIGKILLed, 2 s)", stack, daemon, pin)
    first = s.signing_client()
    pid = stack.pcscd_pid()
    if pid:
        os.kill(pid, signal.SIGKILL)
    answer = first.receive(TOKEN_TIMEOUT)
    s.notes.append("signer got %s" % answer.get("error", "ok"))
    time.sleep(2)
    s.check_no_leak("reader gone")
    stack.command("restart-pcscd")
    s.wait_for_token()
    s.check_no_leak("reader back")
    first.close()
    return s.finish(daemon.alive())


def pcscd_restarted(stack, daemon, pin):
    s = Scenario("pcscd restarted", stack, daemon, pin)
    first = s.signing_client()
    stack.command("restart-pcscd")
    answer = first.receive(TOKEN_TIMEOUT)
    s.notes.append("signer got %s" % answer.get("error", "ok"))
    s.wait_for_token()
    s.check_no_leak("after restart")
    first.close()
    return s.finish(daemon.alive())


def client_killed(stack, daemon, pin):
    s = Scenario("client SIGKILLed mid-operation", stack, daemon, pin)
    first = s.signing_client()
    first.kill()
    s.check_no_leak("just after the kill")
    time.sleep(1)
    s.check_no_leak("1 s after the kill")
    return s.finish(daemon.alive())


def daemon_terminated(stack, daemon, pin):
    s = Scenario("cpsd SIGTERM with clients connected", stack, daemon, pin)
    idle = Client(daemon)
    idle.call({"op": "open"})
    logged = Client(daemon)
    logged.call({"op": "open"})
    logged.call({"op": "login", "pin": pin})
    signer = s.signing_client()
    status, seconds = daemon.stop(signal.SIGTERM, timeout=20)
    clean = status == 0 and not os.path.exists(daemon.socket)
    s.notes.append("exit status %s after %.2f s; socket %s" % (
        status, seconds, "removed" if not os.path.exists(daemon.socket) else "LEFT BEHIND"))
    answer = signer.receive(10)
    s.notes.append("signer got %s" % answer.get("error", "ok"))
    for client in (idle, logged, signer):
        client.kill()
    daemon.start()
    s.check_no_leak("new cpsd")
    return s.finish(clean)


# A card pulled and put back within a moment is a race with cpsd's reader monitor: it is tried several times.
ROUNDS = {"card_pulled": 5}


def merge(results):
    """One scenario's rounds as one result: figures summed, survival and service required in every round."""
    merged = dict(results[0], notes=list(results[0]["notes"]), logPinLines=list(results[0]["logPinLines"]))
    for result in results[1:]:
        merged["survived"] = merged["survived"] and result["survived"]
        merged["served"] = merged["served"] and result["served"]
        for key in ("triesLost", "leaks", "kept", "logPinHits"):
            merged[key] += result[key]
        merged["logPinLines"] = (merged["logPinLines"] + result["logPinLines"])[:3]
        merged["notes"] += [note for note in result["notes"] if note not in merged["notes"]]
    if len(results) > 1:
        merged["name"] = "%s (%d rounds)" % (merged["name"], len(results))
    return merged


def run(stack, daemon, pin, log=print):
    results = []
    for scenario in (card_pulled, reader_gone, pcscd_restarted, client_killed, daemon_terminated):
        started = time.monotonic()
        rounds = []
        for _ in range(ROUNDS.get(scenario.__name__, 1)):
            daemon.revive()  # a previous scenario took it down: counted as a crash, and as not survived
            rounds.append(scenario(stack, daemon, pin))
        result = merge(rounds)
        result["seconds"] = time.monotonic() - started
        log("  %-38s survived %-3s served %-3s tries lost %d, leaks %d, login kept %d, PIN in log %d  (%.1f s; %s)" % (
            result["name"], yes(result["survived"]), yes(result["served"]), result["triesLost"],
            result["leaks"], result["kept"], result["logPinHits"], result["seconds"], "; ".join(result["notes"])))
        results.append(result)
    return results


def yes(value):
    return "yes" if value else "NO"


# MARK: - Core files

def core_check(daemon, pin, work, log=print):
    """With a client logged in (its PIN held by cpsd), asks for a core dump: SIGABRT with RLIMIT_CORE raised
    by our launcher. cpsd should refuse to be dumped (PR_SET_DUMPABLE 0, RLIMIT_CORE 0, MADV_DONTDUMP)."""
    client = Client(daemon)
    client.call({"op": "open"})
    client.call({"op": "login", "pin": pin})
    client.call({"op": "sign"})
    pid = daemon.pid
    with open("/proc/%d/limits" % pid) as file:
        core_limit = next((line.split()[4] for line in file if line.startswith("Max core file size")), "?")
    cwd = os.readlink("/proc/%d/cwd" % pid)
    with open("/proc/sys/kernel/core_pattern") as file:
        pattern = file.read().strip()
    debugger = gcore_hits(pid, pin, work)
    before = set(os.listdir(cwd))
    os.kill(pid, signal.SIGABRT)
    try:
        daemon.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait()
    client.kill()
    time.sleep(0.5)
    cores = [name for name in set(os.listdir(cwd)) - before if name.startswith("core")]
    hits = 0
    for name in cores:
        path = os.path.join(cwd, name)
        hits += sum(count_pin_bytes(path, pin).values())
        os.unlink(path)  # it may hold secrets: never left behind
    if cores:
        verdict = "core written (%s); PIN bytes found %d" % (", ".join(cores), hits)
    elif pattern.startswith("|"):
        verdict = "no core file here (core_pattern pipes to %s); RLIMIT_CORE %s" % (pattern.split()[0], core_limit)
    else:
        verdict = "no core produced (non-dumpable: RLIMIT_CORE %s in cpsd)" % core_limit
    daemon.start()
    return {"cores": len(cores), "pinHits": hits, "verdict": verdict, "coreLimit": core_limit,
            "gcore": debugger}


def gcore_hits(pid, pin, work):
    """A root debugger's snapshot (gdb's gcore honours MADV_DONTDUMP): PIN bytes found in it, or None."""
    prefix = os.path.join(work, "gcore")
    try:
        subprocess.run(["gcore", "-o", prefix, str(pid)], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = "%s.%d" % (prefix, pid)
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as file:
            core = file.read()
        contexts, needle, index = [], pin.encode(), -1
        while len(contexts) < 3:
            index = core.find(needle, index + 1)
            if index < 0:
                break
            contexts.append(core[max(0, index - 40):index + 20])
        return dict(count_pin_bytes(path, pin), contexts=contexts)
    finally:
        os.unlink(path)


def count_pin_bytes(path, pin):
    """Occurrences of the PIN as sent to the card (bare ASCII digits, CPS3 §4.4) and as F-padded packed
    BCD (4 bytes: in a large core such a pattern may also occur by chance)."""
    needles = {"ascii": pin.encode(), "bcd": bytes.fromhex(pin + "ffff")}
    counts, overlap = dict.fromkeys(needles, 0), max(len(n) for n in needles.values())
    with open(path, "rb") as file:
        tail = b""
        while True:
            chunk = file.read(1 << 22)
            if not chunk:
                break
            window = tail + chunk
            for name, needle in needles.items():
                counts[name] += window.count(needle) - tail.count(needle)
            tail = window[-overlap:]
    return counts
