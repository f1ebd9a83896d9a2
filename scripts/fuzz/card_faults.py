"""Fuzzed card answers (the virtual card's fault hooks) while PyKCS11 clients log in and sign through cpsd.

For each fault kind the card is pulled and reinserted with faults armed (cpsd reads the card again, through
the damaged answers), then read cleanly, and two clients log in with the right PIN and sign in turn while
the faults are armed again. Afterwards faults are
disarmed, the card reinserted, and a normal client must log in and sign: the reader is not left stuck.
PIN tries spent are counted by the card itself (VERIFYs with a PIN it refused); the clients only ever
send the right PIN, so every spent try would be cpsd's doing.
"""
import time

from rig import Client, well_formed_clients

MODES = ["wrong-length", "wrong-sw", "truncated-tlv", "endless-61xx", "random"]
OP_TIMEOUT = 30  # seconds for one client call under faults before the reader counts as stuck


class FaultedClient:
    """A client that recovers as an application would: reopens a session, logs in again (right PIN)."""

    def __init__(self, daemon, pin):
        self.daemon, self.pin = daemon, pin
        self.client = Client(daemon)
        self.opened = self.logged_in = False

    def step(self, outcomes):
        if not self.opened:
            answer = self.client.call({"op": "open"}, OP_TIMEOUT)
            if not answer.get("ok"):
                return self.record(outcomes, "open", answer)
            self.opened = True
        if not self.logged_in:
            answer = self.client.call({"op": "login", "pin": self.pin}, OP_TIMEOUT)
            if not answer.get("ok") and answer.get("error") != "CKR_USER_ALREADY_LOGGED_IN":
                return self.record(outcomes, "login", answer)
            self.logged_in = True
        answer = self.client.call({"op": "sign"}, OP_TIMEOUT)
        return self.record(outcomes, "sign", answer)

    def record(self, outcomes, op, answer):
        key = "%s:%s" % (op, "ok" if answer.get("ok") else answer.get("error"))
        outcomes[key] = outcomes.get(key, 0) + 1
        error = answer.get("error")
        if error == "NO_ANSWER":
            # Stuck past the bound: this client is abandoned (and counted), a fresh one takes over.
            self.client.kill()
            self.client = Client(self.daemon)
            self.opened = self.logged_in = False
            return "stuck"
        if error in ("CKR_USER_NOT_LOGGED_IN", "CKR_PIN_INCORRECT", "CKR_PIN_LOCKED", "NO_KEY"):
            self.logged_in = False
        elif error is not None:
            self.opened = self.logged_in = False
        return "ok" if answer.get("ok") else "error"

    def close(self):
        self.client.close()


def reinsert(stack, settle=1.0):
    stack.command("remove 0")
    time.sleep(0.3)
    stack.command("insert 0")
    time.sleep(settle)


def wait_for_token(daemon, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = Client(daemon)
        answer = probe.call({"op": "open"}, 10)
        probe.close()
        if answer.get("ok"):
            return True
        time.sleep(0.2)
    return False


def run(stack, daemon, pin, ops_per_mode, seed, log=print):
    """Per fault kind: (a) the card read at insertion through damaged answers, three times; (b) the card
    read cleanly, then two clients log in and sign while the faults are armed."""
    tries_before = stack.pin_tries_left()
    stats_before = stack.fault_stats()
    per_mode = {}
    started = time.monotonic()
    for index, mode in enumerate(MODES):
        reads_refused = 0
        # Reading a card is ~40 commands: at 0.2 nearly every read meets a fault; at 0.02 some get through
        # with a damaged answer that was not fatal.
        for attempt, rate in enumerate((0.02, 0.05, 0.2)):
            stack.set_faults("mode=%s rate=%g seed=%d" % (mode, rate, seed * 100 + index * 10 + attempt))
            reinsert(stack)
            if not wait_for_token(daemon, timeout=3):
                reads_refused += 1
        stack.set_faults("mode=off")
        reinsert(stack, settle=0.5)
        wait_for_token(daemon)
        stack.set_faults("mode=%s rate=0.2 seed=%d" % (mode, seed * 100 + index))
        clients = [FaultedClient(daemon, pin), FaultedClient(daemon, pin)]
        outcomes, stuck = {}, 0
        for op in range(ops_per_mode):
            if clients[op % 2].step(outcomes) == "stuck":
                stuck += 1
        for client in clients:
            client.close()
        signatures = outcomes.get("sign:ok", 0)
        per_mode[mode] = {"ops": ops_per_mode, "signed": signatures, "stuck": stuck, "outcomes": outcomes,
                          "readsRefused": reads_refused}
        log("  %-13s card read 3 times under faults (%d refused); %d operations: %d signed, %d stuck; %s" % (
            mode, reads_refused, ops_per_mode, signatures, stuck,
            ", ".join("%s %d" % item for item in sorted(outcomes.items()) if not item[0].endswith(":ok"))))
    stack.set_faults("mode=off")
    stats_after = stack.fault_stats()
    reinsert(stack, settle=0.5)
    wait_for_token(daemon)
    recovered, detail = well_formed_clients(daemon, pin)
    return {
        "modes": per_mode,
        "seconds": time.monotonic() - started,
        "faults": {kind: stats_after["faults"].get(kind, 0) - stats_before["faults"].get(kind, 0)
                   for kind in stats_after["faults"]},
        "cardCommands": stats_after["commands"] - stats_before["commands"],
        "triesSpent": stats_after["verifyRefused"] - stats_before["verifyRefused"],
        "triesBefore": tries_before, "triesAfter": stack.pin_tries_left(),
        "recovered": recovered, "recoveryDetail": detail,
        "stuck": sum(mode["stuck"] for mode in per_mode.values()),
    }
