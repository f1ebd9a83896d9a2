"""Malformed and random p11-kit RPC frames against cpsd's Unix socket.

The seeds are frames captured from real p11-kit-client.so sessions (pkcs11-tool and PyKCS11, through a
recording proxy), so mutations start from what the server really parses. Wire format
(../shared/reference/p11-kit-rpc.md): one version byte, then frames of a 12-byte header (u32 BE call
code, options length, data length), the options, the data; the data starts with the u32 call id and
the signature string.

Safety: no frame may reach a call that carries a PIN (C_Login, C_LoginUser, C_InitPIN, C_SetPIN,
C_InitToken*), or a random PIN could cost a try. Each connection's bytes are parsed the way the server
frames them and regenerated until no complete frame names such a call. The card's own count of refused
VERIFYs (its fault hooks' counters) checks it afterwards.
"""
import os
import random
import socket
import struct
import subprocess
import threading
import time

from rig import P11_KIT_CLIENT, PYTHON, HERE

CALLS = """ERROR Initialize Finalize GetInfo GetSlotList GetSlotInfo GetTokenInfo GetMechanismList
GetMechanismInfo InitToken OpenSession CloseSession CloseAllSessions GetSessionInfo InitPIN SetPIN
GetOperationState SetOperationState Login Logout CreateObject CopyObject DestroyObject GetObjectSize
GetAttributeValue SetAttributeValue FindObjectsInit FindObjects FindObjectsFinal EncryptInit Encrypt
EncryptUpdate EncryptFinal DecryptInit Decrypt DecryptUpdate DecryptFinal DigestInit Digest DigestUpdate
DigestKey DigestFinal SignInit Sign SignUpdate SignFinal SignRecoverInit SignRecover VerifyInit Verify
VerifyUpdate VerifyFinal VerifyRecoverInit VerifyRecover DigestEncryptUpdate DecryptDigestUpdate
SignEncryptUpdate DecryptVerifyUpdate GenerateKey GenerateKeyPair WrapKey UnwrapKey DeriveKey SeedRandom
GenerateRandom WaitForSlotEvent LoginUser SessionCancel MessageEncryptInit EncryptMessage
EncryptMessageBegin EncryptMessageNext MessageEncryptFinal MessageDecryptInit DecryptMessage
DecryptMessageBegin DecryptMessageNext MessageDecryptFinal MessageSignInit SignMessage SignMessageBegin
SignMessageNext MessageSignFinal MessageVerifyInit VerifyMessage VerifyMessageBegin VerifyMessageNext
MessageVerifyFinal InitToken2 DeriveKey2""".split()
CALL_ID = {name: index for index, name in enumerate(CALLS)}
PIN_CALLS = {CALL_ID[name] for name in ("InitToken", "InitPIN", "SetPIN", "Login", "LoginUser", "InitToken2")}
# Seconds for cpsd to answer or close a connection once our side is done. Not less: one 60-byte frame
# with a huge attribute count makes libp11-kit (0.24.1) allocate and zero gigabytes, which takes seconds.
HANG_BOUND = 10.0


# MARK: - Seeds, captured from real clients

def capture_seeds(daemon, work):
    """Runs real clients through a recording proxy and returns their frames (header+options+data bytes)."""
    proxy_path = os.path.join(work, "rpc-capture.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(proxy_path)
    listener.listen(16)
    streams = []
    stop = threading.Event()

    def relay(source, sink, record):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if record is not None:
                    record.append(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (sink,):
                try:
                    end.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(daemon.socket)
            record = []
            streams.append(record)
            threading.Thread(target=relay, args=(client, upstream, record), daemon=True).start()
            threading.Thread(target=relay, args=(upstream, client, None), daemon=True).start()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    env = dict(daemon.client_env, P11_KIT_SERVER_ADDRESS="unix:path=" + proxy_path)
    for flags in (["-L"], ["-I"], ["-M"], ["-O"], ["-T"], ["--list-objects", "--type", "cert"]):
        subprocess.run(["pkcs11-tool", "--module", P11_KIT_CLIENT] + flags, env=env,
                       capture_output=True, timeout=60)
    # A PyKCS11 session that never logs in: finds, reads attributes, tries a signature, random, digest.
    script = os.path.join(HERE, "rpc_seed_client.py")
    subprocess.run([PYTHON, script, P11_KIT_CLIENT], env=env, capture_output=True, timeout=60)
    time.sleep(0.3)
    stop.set()
    server.join()
    listener.close()
    os.unlink(proxy_path)
    frames = []
    for record in streams:
        frames.extend(split_frames(b"".join(record))[1])
    safe = [frame for frame in frames if call_of(frame) not in PIN_CALLS]
    return safe


def split_frames(stream):
    """Parses a client byte stream as the server does: (version byte, [complete frames], leftover)."""
    if not stream:
        return None, [], b""
    version, offset, frames = stream[0], 1, []
    while len(stream) - offset >= 12:
        _, options, data = struct.unpack_from(">III", stream, offset)
        end = offset + 12 + options + data
        if end > len(stream):
            break
        frames.append(stream[offset:end])
        offset = end
    return version, frames, stream[offset:]


def call_of(frame):
    """The call id the server would dispatch on (first u32 of the data), or None if too short."""
    options = struct.unpack_from(">I", frame, 4)[0]
    data = frame[12 + options:]
    return struct.unpack_from(">I", data, 0)[0] if len(data) >= 4 else None


# MARK: - Mutations

INTERESTING_U32 = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x1000000, 12, 4096, 65536 + 1]
# Inner lengths and counts of gigabytes: libp11-kit 0.24.1 allocates what they say and fills it with
# 0xff ("munch up the memory"), ~1 s and up to 2 GiB of RSS per frame, before cpsd sees the call. A few
# per campaign show it (the phase's peak RSS); thousands would only measure memset.
HUGE_U32 = [0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x40000000, 0x10000000]
HUGE_BUDGET = 40


def reframe(call_code, options, data):
    return struct.pack(">III", call_code, len(options), len(data)) + options + data


def parts(frame):
    code, options_length, _ = struct.unpack_from(">III", frame, 0)
    options = frame[12:12 + options_length]
    return code, options, frame[12 + options_length:]


SIGNATURES = set()  # the request signatures real clients sent: the only ones libp11-kit parses further
BIG_ALLOCATION = 1 << 24  # 16 MiB: libp11-kit rejects an allocation above 2 GiB - 1 without touching it


def allocates_gigabytes(frame, seed):
    """True if `frame` keeps a valid call signature but holds, where the arguments are, a u32 in
    [16 MiB, 2 GiB) that `seed` did not: libp11-kit would allocate and fill that much."""
    if len(frame) < 12:
        return False
    _, _, data = parts(frame)
    if len(data) < 8:
        return False
    length = struct.unpack_from(">I", data, 4)[0]
    if length > 64 or 8 + length > len(data) or bytes(data[8:8 + length]) not in SIGNATURES:
        return False
    known = {struct.unpack_from(">I", seed, i)[0] for i in range(len(seed) - 3)}
    args = data[8 + length:]
    return any(BIG_ALLOCATION <= value < 0x80000000 and value not in known
               for value in (struct.unpack_from(">I", args, i)[0] for i in range(len(args) - 3)))


class Mutator:
    def __init__(self, rng, seeds):
        self.rng = rng
        self.seeds = seeds
        self.redrawn = 0
        self.kinds = [self.bit_flips, self.interesting_bytes, self.truncate_keep_header, self.truncate_fixed,
                      self.extend, self.huge_header_length, self.random_call_id, self.bad_signature,
                      self.random_frame, self.length_field_inside, self.splice, self.unchanged,
                      self.short_header, self.zero_lengths]

    def frame(self, huge_left=0):
        """(kind name, bytes) for one fuzz frame; a gigabyte inner length only while `huge_left` > 0
        (see HUGE_U32). Other mutations that happen to make one are drawn again, and counted."""
        if huge_left > 0 and self.rng.random() < 0.01:
            return "huge_inner_length", self.huge_inner_length(bytearray(self.rng.choice(self.seeds)))
        while True:
            kind = self.rng.choice(self.kinds)
            seed = self.rng.choice(self.seeds)
            frame = kind(bytearray(seed))
            if not allocates_gigabytes(frame, seed):
                return kind.__name__, frame
            self.redrawn += 1

    def bit_flips(self, frame):
        for _ in range(self.rng.randint(1, 8)):
            position = self.rng.randrange(len(frame))
            frame[position] ^= 1 << self.rng.randrange(8)
        return bytes(frame)

    def interesting_bytes(self, frame):
        for _ in range(self.rng.randint(1, 4)):
            frame[self.rng.randrange(len(frame))] = self.rng.choice([0, 0xFF, 0x7F, 0x80, 0x01, 0xFE])
        return bytes(frame)

    def truncate_keep_header(self, frame):
        # The header promises more than comes: the server must wait, then see our end of stream.
        return bytes(frame[:self.rng.randrange(1, len(frame))])

    def truncate_fixed(self, frame):
        code, options, data = parts(frame)
        return reframe(code, options, data[:self.rng.randrange(0, max(1, len(data)))])

    def extend(self, frame):
        # Trailing bytes, mostly small values (random bytes would nearly always spell a gigabyte length).
        code, options, data = parts(frame)
        tail = bytes(self.rng.choice((0, 0, 0, 1, 2, 0x20, 0x41, 0xFF)) for _ in range(self.rng.randint(1, 600)))
        return reframe(code, options, data + tail)

    def huge_header_length(self, frame):
        field = self.rng.choice([4, 8])
        struct.pack_into(">I", frame, field, self.rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000,
                                                              0x01000000, self.rng.getrandbits(32)]))
        return bytes(frame)

    def random_call_id(self, frame):
        code, options, data = parts(frame)
        data = bytearray(data if len(data) >= 4 else b"\0\0\0\0")
        struct.pack_into(">I", data, 0, self.rng.choice([self.rng.randrange(0, 200), 0xFFFFFFFF, 0x80000000,
                                                         len(CALLS), len(CALLS) + 1, 0]))
        return reframe(code, options, bytes(data))

    def bad_signature(self, frame):
        code, options, data = parts(frame)
        if len(data) < 8:
            return self.bit_flips(frame)
        call = data[:4]
        signature = self.rng.choice([b"", b"u", b"uuuuuuuuuuuuuuuu", b"ay" * 40, b"aA", b"fA", b"M", b"P",
                                     self.rng.randbytes(self.rng.randint(1, 20))])
        length = self.rng.choice([len(signature), len(signature), 0xFFFFFFFF, len(signature) + 100])
        rest = data[8 + struct.unpack_from(">I", data, 4)[0]:] if len(data) >= 8 else b""
        return reframe(code, options, call + struct.pack(">I", length) + signature + rest)

    def random_frame(self, frame):
        data = self.rng.randbytes(self.rng.randint(0, 300))
        options = self.rng.randbytes(self.rng.choice([0, 0, 0, self.rng.randint(1, 40)]))
        return reframe(self.rng.getrandbits(32), options, data)

    def length_field_inside(self, frame, values=INTERESTING_U32):
        # A u32 inside the data (array count, byte-array length) set to an odd value.
        code, options, data = parts(frame)
        if len(data) < 8:
            return self.huge_header_length(frame)
        data = bytearray(data)
        position = self.rng.randrange(4, len(data) - 3)
        struct.pack_into(">I", data, position, self.rng.choice(values))
        return reframe(code, options, bytes(data))

    def huge_inner_length(self, frame):
        return self.length_field_inside(frame, HUGE_U32)

    def splice(self, frame):
        other = self.rng.choice(self.seeds)
        code, options, data = parts(frame)
        _, _, other_data = parts(other)
        cut = self.rng.randrange(0, max(1, len(data)))
        return reframe(code, options, data[:cut] + other_data[self.rng.randrange(0, max(1, len(other_data))):])

    def unchanged(self, frame):
        return bytes(frame)

    def short_header(self, frame):
        return bytes(frame[:self.rng.randrange(0, 12)])

    def zero_lengths(self, frame):
        return reframe(struct.unpack_from(">I", frame, 0)[0], b"", b"")


def describe(stream):
    """A hung connection's frames as the server frames them: call names and lengths."""
    _, frames, leftover = split_frames(stream)
    names = []
    for frame in frames:
        call = call_of(frame)
        names.append("%s(%d bytes)" % (CALLS[call] if call is not None and call < len(CALLS) else call, len(frame)))
    return " ".join(names) + (" +%d bytes unframed: %s" % (len(leftover), leftover[:24].hex()) if leftover else "")


def pin_safe(stream):
    """True if no complete frame of `stream`, framed as the server frames it, names a PIN call."""
    _, frames, _ = split_frames(stream)
    return all(call_of(frame) not in PIN_CALLS for frame in frames)


# MARK: - The campaign

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.frames = 0
        self.connections = 0
        self.answered = 0
        self.redrawn = 0
        self.hung_kinds = {}
        self.hung_streams = []
        self.slowest = []
        self.closed_by_server = 0
        self.hangs = 0
        self.refused = 0
        self.worst = 0.0
        self.by_kind = {}

    def add(self, **fields):
        with self.lock:
            for key, value in fields.items():
                if key == "worst":
                    self.worst = max(self.worst, value)
                elif key == "kind":
                    self.by_kind[value] = self.by_kind.get(value, 0) + 1
                elif key == "slow":
                    self.slowest = sorted(self.slowest + [value], key=lambda item: -item[0])[:5]
                elif key == "hung_stream":
                    if len(self.hung_streams) < 5:
                        self.hung_streams.append(value)
                elif key == "hung_kinds":
                    self.hung_kinds[value] = self.hung_kinds.get(value, 0) + 1
                else:
                    setattr(self, key, getattr(self, key) + value)


def one_connection(daemon, stream, prefix_frames, tally, kind):
    """Sends one connection's bytes, ends our side, and waits for cpsd to answer and close."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(HANG_BOUND)
    try:
        sock.connect(daemon.socket)
    except OSError:
        sock.close()
        if not daemon.revive():
            tally.add(refused=1)
        return
    started = time.monotonic()
    hung, answer = False, b""
    try:
        try:
            sock.sendall(stream)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # cpsd closed early: it read enough to refuse
        deadline = started + HANG_BOUND
        while True:
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
            except OSError:
                break  # reset: cpsd closed with our bytes unread
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    if hung and daemon.died_within(10):
        hung = False  # no answer because cpsd was crashing: counted as a crash, not a hang
    if hung:
        tally.add(hung_kinds=kind, hung_stream=stream)
    if hung or not daemon.alive():
        daemon.revive()
    answers = len(split_frames(answer)[1])
    tally.add(slow=(time.monotonic() - started, stream))
    tally.add(connections=1, frames=1, answered=int(answers > prefix_frames), hangs=int(hung),
              worst=time.monotonic() - started, kind=kind)


def run(daemon, work, total_frames, seed, threads=2, log=print):
    seeds = capture_seeds(daemon, work)
    if not seeds:
        raise RuntimeError("no RPC frames captured from the real clients")
    for frame in seeds:
        _, _, data = parts(frame)
        SIGNATURES.add(bytes(data[8:8 + struct.unpack_from(">I", data, 4)[0]]))
    init_frames = [frame for frame in seeds if call_of(frame) == CALL_ID["Initialize"]]
    # Valid calls that keep a connection going, to reach deeper states before the fuzzed frame.
    steps = [frame for frame in seeds if call_of(frame) not in (CALL_ID["Initialize"], CALL_ID["Finalize"])]
    log("  %d seed frames captured from pkcs11-tool and PyKCS11 sessions (%d distinct calls)"
        % (len(seeds), len({call_of(frame) for frame in seeds})))
    tally = Tally()
    per_thread = [total_frames // threads + (1 if index < total_frames % threads else 0) for index in range(threads)]

    def worker(index, budget):
        rng = random.Random(seed * 1000 + index)
        mutator = Mutator(rng, seeds)
        huge_left = HUGE_BUDGET // threads
        while budget > 0:
            for _attempt in range(50):
                version = bytes([rng.choice([0, 0, 0, 0, 1, 2, 0xFF, rng.getrandbits(8)])])
                prefix = [rng.choice(init_frames)] if init_frames and rng.random() < 0.8 else []
                if prefix and rng.random() < 0.5:
                    prefix += [rng.choice(steps) for _ in range(rng.randint(1, 3))]
                kind, frame = mutator.frame(huge_left)
                stream = version + b"".join(prefix) + frame
                if pin_safe(stream):
                    break
            else:
                continue  # never send what could not be made safe
            one_connection(daemon, stream, len(prefix), tally, kind)
            huge_left -= kind == "huge_inner_length"
            budget -= 1
        tally.add(redrawn=mutator.redrawn)

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(index, budget)) for index, budget in enumerate(per_thread)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    idle = many_idle_connections(daemon.socket, 200)
    return {"frames": tally.frames, "connections": tally.connections, "seconds": elapsed,
            "hangs": tally.hangs, "refused": tally.refused, "redrawn": tally.redrawn, "worst": tally.worst, "answered": tally.answered,
            "kinds": tally.by_kind, "hungKinds": tally.hung_kinds, "idle": idle,
            "hungFrames": [describe(stream) for stream in tally.hung_streams],
            "slowest": [(seconds, describe(stream), stream) for seconds, stream in tally.slowest]}


def many_idle_connections(path, count):
    """Opens `count` connections at once, each with half a frame, holds them, then drops them all:
    the accept loop and the per-connection threads must cope and give every fd back."""
    held, refused = [], 0
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            sock.sendall(b"\0" + struct.pack(">III", 1, 0, 100) + b"\0\0")
            held.append(sock)
        except OSError:
            refused += 1
            sock.close()
    time.sleep(1.0)
    for sock in held:
        sock.close()
    return {"held": len(held), "refused": refused}
