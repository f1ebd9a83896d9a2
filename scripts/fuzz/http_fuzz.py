"""Malformed HTTP requests over real TLS connections to cpsd's browser bridge.

Most requests are well-framed HTTP whose content is wrong (bad JSON, wrong content types, missing or
foreign Origin, bad tokens, unknown routes and methods, oversized bodies): they are pipelined on kept-alive
connections, as the bridge may keep those open. A connection's last request may break the framing itself
(garbage request lines, huge or broken headers, chunked garbage, conflicting lengths), after which the
bridge may close. Partial requests (slowloris) are held separately, for a bounded time.

A hang is a connection on which, once everything was sent, the bridge neither answered every request nor
closed within HANG_BOUND seconds.
"""
import json
import random
import socket
import ssl
import threading
import time
import uuid

EXTENSION = "chrome-extension://bbdifahjkphgjdfopbedhkhkaijgdhbk"
HANG_BOUND = 5.0
ROUTES = ["/v1/status", "/v1/pair/start", "/v1/pair/finish", "/v1/authenticate", "/v1/signing-certificate",
          "/v1/cancel", "/v1/nothing", "/", "/v1/status/../pair/start", "/v1/%00", "/v1/status?x=1", "*",
          "/" + "a" * 3000]


class Requests:
    """Generators of malformed requests. Each request is (kind, variant, bytes, breaks_framing); the
    variant names every choice made, so a request that crashes cpsd can be quarantined once found
    (a fuzzer's known-crash list): the campaign then goes on looking for other bugs."""

    def __init__(self, rng, port, token, quarantine=frozenset()):
        self.rng = rng
        self.host = "127.0.0.1:%d" % port
        self.token = token
        self.quarantine = quarantine
        self.labels = []

    def pick(self, name, options):
        index = self.rng.randrange(len(options))
        self.labels.append("%s#%d" % (name, index))
        return options[index]

    def headers(self, route, body, content_type="application/json"):
        # Now and then a Firefox extension origin of its own, so that bodies get past the per-caller rate
        # limit and are parsed (and the limiter's table of callers grows: it must stay bounded).
        origin = EXTENSION if self.rng.random() < 0.7 else "moz-extension://%s" % uuid.UUID(int=self.rng.getrandbits(128))
        lines = ["POST %s HTTP/1.1" % route, "Host: " + self.host, "Origin: " + origin, "X-CPS-Bridge: 1",
                 "Content-Type: " + content_type, "Content-Length: %d" % len(body)]
        if self.token and self.rng.random() < 0.3:
            lines.append("Authorization: Bearer " + self.token)
        return lines

    @staticmethod
    def build(lines, body):
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    # Well-framed, wrong content: the bridge should answer and may keep the connection.

    def bad_json(self):
        r = self.rng
        body = self.pick("body", [
            r.randbytes(r.randint(1, 200)), b"{", b'{"a":', b"[]", b"null", b'"x"', b"[" * 4000, b"1e999999",
            b'{"pairingId": 5, "code": []}', b'{"code": "' + b"9" * 500 + b'"}', b'{"a":1,"a":2}',
            b'{"requestId": "\\ud800", "origin": "https://x", "challengeNonce": "' + b"A" * 44 + b'"}',
            json.dumps({"pairingId": "%032x" % r.getrandbits(128), "code": "%06d" % r.randrange(10 ** 6)}).encode(),
            json.dumps({"requestId": "r", "origin": r.choice(["http://x", "https://a/b?c", "javascript:1", ""]),
                        "challengeNonce": "x" * r.choice([0, 10, 43, 129, 5000])}).encode(),
            b"\xff\xfe{\x00}\x00", b"{}" * 3000])
        return "bad-json", self.build(self.headers(self.pick("route", ROUTES[:6]), body), body), False

    def wrong_headers(self):
        r = self.rng
        body = b"{}"
        lines = self.headers(self.pick("route", ROUTES), body)
        choice = self.pick("header", list(range(9)))
        if choice == 0:
            lines = [l for l in lines if not l.startswith("Origin")]
        elif choice == 1:
            lines[2] = "Origin: " + self.pick("origin", ["https://evil.example", "null", "chrome-extension://" + "a" * 32,
                                                         "moz-extension://not-a-uuid", EXTENSION + "/x", ""])
        elif choice == 2:
            lines[1] = "Host: " + self.pick("host", ["evil.example", "127.0.0.1", "localhost:1", "[::1]", ""])
        elif choice == 3:
            lines = [l for l in lines if not l.startswith("X-CPS-Bridge")] + [self.pick("x", ["X-CPS-Bridge: 0", ""])]
        elif choice == 4:
            lines[4] = "Content-Type: " + self.pick("type", ["text/plain", "multipart/form-data; boundary=x",
                                                             "application/json; charset=utf-16", "", ";",
                                                             "application/jsonx"])
        elif choice == 5:
            lines.append("Authorization: " + self.pick("auth", ["Bearer", "Bearer " + "A" * 4000, "Basic Zm9vOmJhcg==",
                                                                "Bearer " + "%043x" % r.getrandbits(172)]))
        elif choice == 6:
            lines.extend("X-Junk-%d: %s" % (i, "v" * r.randint(0, 50)) for i in range(r.randint(1, 60)))
        elif choice == 7:
            lines[0] = "%s %s HTTP/1.1" % (self.pick("method", ["GET", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]),
                                           self.pick("route2", ROUTES))
        else:
            lines.append("Origin: https://second.example")
        return "wrong-headers", self.build([l for l in lines if l], body), False

    # Framing breakers, last on their connection: the bridge may answer and close, or just close.

    def oversized_body(self):
        body = b'{"x": "' + b"y" * self.rng.randint(8200, 20000) + b'"}'
        return "oversized-body", self.build(self.headers("/v1/status", body), body), True

    def garbage_line(self):
        r = self.rng
        line = self.pick("line", [r.randbytes(r.randint(1, 300)).replace(b"\r\n\r\n", b""), b"GET",
                                  b"POST /v1/status HTTP/9.9", b"post /v1/status http/1.1",
                                  b"POST  /v1/status  HTTP/1.1", b"\x16\x03\x01\x02\x00",
                                  b"GET /" + b"A" * 70000 + b" HTTP/1.1", b"POST /v1/status HTTP/1.1 extra",
                                  b"POST /v1/status\x00 HTTP/1.1"])
        return "garbage-line", line + b"\r\nHost: " + self.host.encode() + b"\r\n\r\n", True

    def broken_headers(self):
        body = b"{}"
        lines = self.headers("/v1/status", body)
        choice = self.pick("broken", list(range(7)))
        if choice == 0:
            lines.append("NoColonHere")
        elif choice == 1:
            lines.append(" folded: continuation")
        elif choice == 2:
            lines.append("X-Huge: " + "h" * self.pick("size", [70000, 200000]))
        elif choice == 3:
            lines.extend("X-%d: 1" % i for i in range(3000))
        elif choice == 4:
            lines.append("Bad\x00Name: 1")
        elif choice == 5:
            lines.append("Content-Length: 7")  # a second, conflicting length
        else:
            length = self.pick("length", ["-1", "abc", "2, 2", "0x2", "99999999999999999999"])
            lines = [l.replace("Content-Length: 2", "Content-Length: " + length) for l in lines]
        return "broken-headers", self.build(lines, body), True

    def chunked_garbage(self):
        lines = [l for l in self.headers("/v1/status", b"") if not l.startswith("Content-Length")]
        lines.append("Transfer-Encoding: " + self.pick("te", ["chunked", "gzip, chunked", "chunked, chunked",
                                                               "xchunked"]))
        if self.pick("cl", [False, False, True]):
            lines.append("Content-Length: 2")
        body = self.pick("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
                                    b"2;" + b"e" * 5000 + b"\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n",
                                    b"-2\r\n{}\r\n0\r\n\r\n", b"2\r\n{}\r\n0\r\nTrailer: x\r\n\r\n"])
        return "chunked-garbage", self.build(lines, b"") + body, True

    def request(self, last):
        for _ in range(100):
            self.labels = []
            if last and self.rng.random() < 0.5:
                generator = self.rng.choice([self.garbage_line, self.broken_headers, self.chunked_garbage,
                                             self.oversized_body])
            else:
                generator = self.rng.choice([self.bad_json, self.wrong_headers])
            kind, data, breaks = generator()
            # The route rarely decides a crash: leaving it out keeps one bug from being found per route.
            variant = kind + ":" + ",".join(label for label in self.labels if not label.startswith("route"))
            if variant not in self.quarantine:
                return kind, variant, data, breaks
        raise RuntimeError("every request variant is quarantined")

    def partial(self):
        """An incomplete request (slowloris): headers cut short, or a body shorter than its length."""
        body = b'{"pairingId": "'
        whole = self.build(self.headers("/v1/pair/finish", body + b"x" * 40), b"")
        return self.rng.choice([whole[:self.rng.randrange(1, len(whole) - 4)], whole + body])


def count_responses(buffer):
    """Statuses of the complete HTTP responses at the start of `buffer`, and the bytes they used."""
    statuses, offset = [], 0
    while True:
        end = buffer.find(b"\r\n\r\n", offset)
        if end < 0:
            return statuses, offset
        head = buffer[offset:end].decode("latin-1", "replace").split("\r\n")
        try:
            status = int(head[0].split()[1])
        except (IndexError, ValueError):
            return statuses + ["unparsable"], len(buffer)
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(buffer) < end + 4 + length:
            return statuses, offset
        statuses.append(status)
        offset = end + 4 + length


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {"requests": 0, "answered": 0, "connections": 0, "closedByServer": 0, "hangs": 0,
                       "connectFailures": 0, "worst": 0.0, "handshakeFailures": 0}
        self.statuses = {}
        self.kinds = {}

    def add(self, statuses=(), kinds=(), **fields):
        with self.lock:
            for key, value in fields.items():
                if key == "worst":
                    self.values[key] = max(self.values[key], value)
                else:
                    self.values[key] += value
            for status in statuses:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            for kind in kinds:
                self.kinds[kind] = self.kinds.get(kind, 0) + 1


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the fuzzer attacks the bridge; it does not need to trust it
    return context


def connect(context, port, session):
    raw = socket.create_connection(("127.0.0.1", port), timeout=HANG_BOUND)
    try:
        return context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    except (OSError, ssl.SSLError):
        raw.close()
        raise


def exchange(context, port, data, expected, session=None):
    """Sends `data` on a new TLS connection and reads until `expected` answers, a close, or HANG_BOUND.
    Returns (statuses, closed, hung, seconds, session); raises OSError/SSLError if it cannot connect."""
    sock = connect(context, port, session)
    started = time.monotonic()
    buffer, closed, hung = b"", False, False
    try:
        try:
            sock.sendall(data)
        except (OSError, ssl.SSLError):
            closed = True
        deadline = time.monotonic() + HANG_BOUND
        while not closed:
            if len(count_responses(buffer)[0]) >= expected:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                hung = True
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                hung = True
                break
            except (OSError, ssl.SSLError):
                closed = True
                break
            if not chunk:
                closed = True
                break
            buffer += chunk
        session = sock.session or session
    finally:
        sock.close()
    return count_responses(buffer)[0], closed, hung, time.monotonic() - started, session


class Gate:
    """Lets fuzzing threads run together, or one alone: crash triage replays requests with no other
    traffic, so a crash is pinned on the right request."""

    def __init__(self):
        self.condition = threading.Condition()
        self.active = 0
        self.exclusive = False

    def enter(self):
        with self.condition:
            while self.exclusive:
                self.condition.wait()
            self.active += 1

    def leave(self):
        with self.condition:
            self.active -= 1
            self.condition.notify_all()

    def run_alone(self, action):
        with self.condition:
            while self.exclusive:
                self.condition.wait()
            self.exclusive = True
            while self.active > 0:
                self.condition.wait()
        try:
            action()
        finally:
            with self.condition:
                self.exclusive = False
                self.condition.notify_all()


def one_connection(context, daemon, batch, tally, holder):
    """Returns True if cpsd died during the batch (the caller then triages it)."""
    kinds = [kind for kind, _, _, _ in batch]
    try:
        statuses, closed, hung, seconds, holder["session"] = exchange(
            context, daemon.bridge_port, b"".join(data for _, _, data, _ in batch), len(batch), holder.get("session"))
    except (OSError, ssl.SSLError):
        tally.add(connectFailures=1, requests=len(batch), kinds=kinds)
        return daemon.revive()
    if hung and daemon.died_within(10):
        hung = False  # no answer because cpsd was crashing: counted as a crash, not a hang
    died = (hung or closed) and daemon.revive()
    tally.add(statuses=statuses, kinds=kinds, requests=len(batch), answered=len(statuses), connections=1,
              closedByServer=int(closed), hangs=int(hung), worst=seconds)
    return died


def triage(daemon, batch, quarantine):
    """cpsd died during `batch`: replays its requests one by one, alone, to find the culprit, whose
    variant is quarantined (and printed) so that one bug costs a few restarts, not thousands."""
    daemon.revive()
    context = tls_context()
    for kind, variant, data, _ in batch:
        if variant in quarantine:
            continue
        try:
            statuses, closed, _, _, _ = exchange(context, daemon.bridge_port, data, 1)
        except (OSError, ssl.SSLError):
            statuses, closed = [], True
        if statuses and daemon.alive():
            continue  # answered: not this one
        if daemon.died_within(1.0):  # backtraces are off after the first crash: death is prompt
            quarantine[variant] = data[:300]
            daemon.revive()
            return


def slowloris(port, requests, count, hold):
    """Holds `count` partial requests (fewer than the bridge's per-peer cap, so a well-formed request
    still gets in) until the bridge closes them or `hold` seconds pass. Returns how many it closed, the
    latest close, and whether /v1/status answered meanwhile."""
    context = tls_context()
    held, opened = [], time.monotonic()
    for _ in range(count):
        try:
            sock = connect(context, port, None)
            sock.sendall(requests.partial())
            held.append(sock)
        except (OSError, ssl.SSLError):
            pass
    status_meanwhile = status_answers(port)
    closed, latest = set(), 0.0
    deadline = opened + hold
    while time.monotonic() < deadline and len(closed) < len(held):
        for index, sock in enumerate(held):
            if index in closed:
                continue
            sock.setblocking(False)
            try:
                gone = not sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                gone = False
            except (OSError, ssl.SSLError):
                gone = True
            if gone:
                closed.add(index)
                latest = time.monotonic() - opened
        time.sleep(0.2)
    for sock in held:
        sock.close()
    return {"held": len(held), "closedByBridge": len(closed), "hold": hold, "latestClose": latest,
            "statusMeanwhile": status_meanwhile}


def status_answers(port, token=None):
    """A well-formed POST /v1/status as the extension sends it: True if it answers cps-bridge/1."""
    try:
        sock = connect(tls_context(), port, None)
    except (OSError, ssl.SSLError):
        return False
    try:
        request = Requests(random.Random(0), port, None)
        lines = request.headers("/v1/status", b"{}")
        if token:
            lines.append("Authorization: Bearer " + token)
        sock.sendall(request.build(lines, b"{}"))
        buffer, deadline = b"", time.monotonic() + 10
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            statuses, _ = count_responses(buffer)
            if statuses:
                return statuses[0] == 200 and b"cps-bridge/1" in buffer
        return False
    except (OSError, ssl.SSLError):
        return False
    finally:
        sock.close()


def run(daemon, token, total_requests, seed, threads=4):
    port = daemon.bridge_port
    tally = Tally()
    quarantine = {}  # variant → the first bytes of a request that crashed cpsd
    gate = Gate()
    per_thread = [total_requests // threads + (1 if i < total_requests % threads else 0) for i in range(threads)]

    def worker(index, budget):
        rng = random.Random(seed * 7919 + index)
        requests = Requests(rng, port, token, quarantine)
        context = tls_context()
        holder = {}
        while budget > 0:
            count = min(budget, rng.randint(1, 40))
            batch = [requests.request(last=(i == count - 1)) for i in range(count)]
            gate.enter()
            try:
                died = one_connection(context, daemon, batch, tally, holder)
            finally:
                gate.leave()
            if died:
                gate.run_alone(lambda: triage(daemon, batch, quarantine))
            budget -= count

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate(per_thread)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    daemon.revive()
    partials = slowloris(port, Requests(random.Random(seed), port, None), 12, 40.0)
    result = dict(tally.values, seconds=elapsed, statuses=tally.statuses, kinds=tally.kinds, partials=partials,
                  crashers=quarantine)
    return result
