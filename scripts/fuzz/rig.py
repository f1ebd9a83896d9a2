"""The real stack the fault campaign runs against: a private pcscd with a virtual CPS3 (cps-vcard stack,
its fault hooks armed through a plan file), cpsd on a private socket and bridge port, and the probes
every phase shares (cpsd alive, RSS, fds, a well-formed client still served, the card's counters)."""
import json
import os
import resource
import select
import shlex
import signal
import subprocess
import threading
import time

PYTHON = "/usr/bin/python3"  # Debian's, which has python3-pykcs11 (a pyenv python on PATH would not)
P11_KIT_CLIENT = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCRIPTED_PINENTRY = os.path.join(REPO, "Tests/Fixtures/scripted-pinentry")


def read_line(stream, deadline):
    """One line from a pipe, or None at EOF or past `deadline` (monotonic seconds)."""
    buffer = b""
    fd = stream.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        byte = os.read(fd, 1)
        if not byte:
            return buffer.decode() if buffer else None
        if byte == b"\n":
            return buffer.decode()
        buffer += byte
    return None


class Stack:
    """`cps-vcard stack` with one reader and the campaign's card; stdin takes remove/insert/restart-pcscd."""

    def __init__(self, bin_dir, work, card_state, fault_plan):
        self.dir = os.path.join(work, "stack")
        self.fault_plan = fault_plan
        self.card_state = card_state
        env = dict(os.environ, CPS_VCARD_FAULTS=fault_plan)
        self.process = subprocess.Popen(
            [os.path.join(bin_dir, "cps-vcard"), "stack", "--dir", self.dir, "--readers", "1",
             "--state", card_state],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(work, "stack.err"), "ab"), env=env)
        self.environment = {}
        deadline = time.monotonic() + 30
        while True:
            line = read_line(self.process.stdout, deadline)
            if line is None:
                raise RuntimeError("cps-vcard stack did not get ready (see stack.err)")
            if line == "ready":
                break
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                self.environment[key] = shlex.split(value)[0] if value else ""

    def command(self, line):
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def pcscd_pid(self):
        """This stack's pcscd (its command line names our conf directory; other stacks may be running)."""
        conf = os.path.join(self.dir, "conf")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as file:
                    words = file.read().split(b"\0")
            except OSError:
                continue
            if words and os.path.basename(words[0]) == b"pcscd" and conf.encode() in words:
                return int(entry)
        return None

    def set_faults(self, plan):
        """Arms (or with "mode=off" disarms) the card's fault hooks; the card rereads the file per command."""
        temporary = self.fault_plan + ".tmp"
        with open(temporary, "w") as file:
            file.write(plan + "\n")
        os.replace(temporary, self.fault_plan)

    def fault_stats(self):
        try:
            with open(self.fault_plan + ".stats") as file:
                return json.load(file)
        except (OSError, ValueError):
            return {"commands": 0, "faults": {}, "verifyRefused": 0, "verifyAccepted": 0}

    def pin_tries_left(self):
        """The PIN counter as the card persists it (what `cpsctl card info --direct` would read)."""
        with open(os.path.join(self.card_state, "state.json")) as file:
            return json.load(file)["pin"]["triesLeft"]

    def stop(self):
        if self.process.poll() is None:
            try:
                self.command("quit")
            except OSError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Daemon:
    """cpsd on a private socket and bridge port, its stderr appended to one log for the whole campaign
    (the PIN-leak check greps all of it)."""

    def __init__(self, bin_dir, work, stack_env, bridge_port):
        self.binary = os.path.join(bin_dir, "cpsd")
        self.work = work
        self.socket = os.path.join(work, "run", "p11-kit", "pkcs11")
        self.log_path = os.path.join(work, "cpsd.log")
        self.bridge_port = bridge_port
        self.core_dir = os.path.join(work, "core")
        os.makedirs(self.core_dir, exist_ok=True)
        os.makedirs(os.path.dirname(self.socket), mode=0o700, exist_ok=True)
        os.chmod(os.path.join(work, "run"), 0o700)
        self.env = dict(os.environ, **stack_env)
        self.env.update({
            "XDG_RUNTIME_DIR": os.path.join(work, "run"), "XDG_STATE_HOME": os.path.join(work, "state"),
            "XDG_CONFIG_HOME": os.path.join(work, "config"), "XDG_DATA_HOME": os.path.join(work, "data"),
            "CPSD_TEST_PINENTRY_SCRIPT": os.path.join(work, "pinentry-script"),
            "CPSD_TEST_PINENTRY_LOG": os.path.join(work, "pinentry-log"),
        })
        self.client_env = dict(self.env, P11_KIT_SERVER_ADDRESS="unix:path=" + self.socket)
        self.process = None
        self.starts = 0
        self.crashes = []  # (exit status, the fatal line of its log) for each unexpected death
        self.revive_lock = threading.Lock()

    def start(self):
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("==== cpsd start %d ====\n" % self.starts).encode())
        log.flush()

        def allow_core():
            # Lets the kernel write a core if cpsd itself does not forbid it (the campaign checks it does).
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

        self.process = subprocess.Popen(
            [self.binary, "--socket", self.socket, "--bridge-port", str(self.bridge_port),
             "--pinentry", SCRIPTED_PINENTRY, "--log-level", "debug"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env, cwd=self.core_dir,
            preexec_fn=allow_core)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("cpsd exited at start with %s (see cpsd.log)" % self.process.returncode)
            if os.path.exists(self.socket) and "bridge listening" in self.log_since_start():
                return
            time.sleep(0.05)
        raise RuntimeError("cpsd did not start its socket and bridge within 30 s")

    def died_within(self, seconds):
        """True if cpsd exits within `seconds` (a crash in progress: the backtracer takes a while)."""
        try:
            self.process.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def revive(self):
        """If cpsd died, records the crash and starts it again (so a campaign goes on finding bugs).
        Returns True if it had died. Safe to call from several fuzzing threads."""
        with self.revive_lock:
            if self.alive():
                return False
            fatal = [line for line in self.log_since_start().splitlines()
                     if "Fatal error" in line or "crashed" in line or "Signal" in line]
            self.crashes.append((self.process.returncode, fatal[0] if fatal else "no fatal line in the log"))
            # The first crash's backtrace is in the log; later ones would only slow the campaign down.
            self.env["SWIFT_BACKTRACE"] = "enable=no"
            self.start()
            return True

    def log_since_start(self):
        with open(self.log_path, errors="replace") as file:
            text = file.read()
        return text[text.rfind("==== cpsd start"):]

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def rss_kib(self):
        return _status_field(self.pid, "VmRSS")

    def threads(self):
        return _status_field(self.pid, "Threads")

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def reset_peak(self):
        """Resets cpsd's peak RSS (VmHWM), so a phase's peak can be read after it (clear_refs 5)."""
        try:
            with open("/proc/%d/clear_refs" % self.pid, "w") as file:
                file.write("5")
        except OSError:
            pass

    def peak_rss_kib(self):
        try:
            return _status_field(self.pid, "VmHWM")
        except OSError:
            return None

    def snapshot(self):
        """RSS (KiB), open fds and threads; zeros if cpsd is gone (the caller reports the crash)."""
        try:
            return {"rss": self.rss_kib() or 0, "fds": self.fds(), "threads": self.threads() or 0}
        except OSError:
            return {"rss": 0, "fds": 0, "threads": 0}

    def settle(self, baseline_fds, timeout=10):
        """Waits until cpsd's connection threads have wound down (fds back near `baseline_fds`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive() and self.fds() > baseline_fds:
            time.sleep(0.1)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends `sig` and waits; returns (exit status, seconds) or (None, timeout) if it did not exit."""
        if not self.alive():
            return self.process.returncode, 0.0
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None, timeout
        return status, time.monotonic() - started


def _status_field(pid, name):
    with open("/proc/%d/status" % pid) as file:
        for line in file:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


class Client:
    """A PyKCS11 client process (p11client.py) talking to cpsd through p11-kit-client.so."""

    def __init__(self, daemon):
        self.process = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "p11client.py"), P11_KIT_CLIENT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=daemon.client_env)

    def send(self, command):
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def receive(self, timeout=30):
        line = read_line(self.process.stdout, time.monotonic() + timeout)
        if line is None:
            return {"ok": False, "error": "NO_ANSWER"}
        return json.loads(line)

    def call(self, command, timeout=30):
        try:
            self.send(command)
        except OSError:
            return {"ok": False, "error": "CLIENT_GONE"}
        return self.receive(timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def well_formed_clients(daemon, pin, timeout=60):
    """The well-formed clients a phase must leave served: `pkcs11-tool -L` through p11-kit-client.so,
    then a PyKCS11 login and signature. Returns (ok, detail)."""
    try:
        listing = subprocess.run(["pkcs11-tool", "--module", P11_KIT_CLIENT, "-L"], env=daemon.client_env,
                                 capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "pkcs11-tool -L timed out"
    if listing.returncode != 0 or "ASIP SANTE" not in listing.stdout:
        return False, "pkcs11-tool -L: rc %d %s" % (listing.returncode, listing.stderr.strip()[-200:])
    client = Client(daemon)
    try:
        for command in ({"op": "open"}, {"op": "login", "pin": pin}, {"op": "sign"}):
            answer = client.call(command, timeout)
            if not answer.get("ok"):
                return False, "PyKCS11 %s: %s" % (command["op"], answer.get("error"))
        return True, "pkcs11-tool -L and a PyKCS11 login+sign served"
    finally:
        client.close()
