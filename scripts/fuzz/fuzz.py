#!/usr/bin/python3
"""`make fuzz`: the fault campaign of issue 10, on the real virtual stack, printing figures.

Bounded, seeded, stops by itself. Phases, each against the same running cpsd (private socket, private
bridge port, private XDG directories) on a private `cps-vcard stack`:
  1. malformed and random p11-kit RPC frames over cpsd's Unix socket;
  2. malformed HTTP requests over TLS to the bridge;
  3. fuzzed card answers (the virtual card's fault hooks) while clients log in and sign;
  4. the fault matrix: card pulled, reader gone, pcscd restarted, client SIGKILLed, cpsd SIGTERM;
  5. a core dump asked of cpsd while it holds a PIN.
Exit status 1 if any must-be-zero figure is not zero, a well-formed client is not served, or cpsd crashed.

usage: fuzz.py [--config debug|release] [--scale F] [--seed N] [--keep]
  FUZZ_SCALE (default 1: 100,000 RPC frames and 100,000 HTTP requests) and FUZZ_SEED work too.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree

import card_faults  # noqa: E402 — after the line above
import fault_matrix
import http_fuzz
import rpc_fuzz
from rig import PYTHON, REPO, Daemon, Stack, well_formed_clients

PIN = "7391"  # the campaign card's PIN: unusual digits, so a leak in a log is not mistaken for a number


def log(message=""):
    print(message, flush=True)


class Figures:
    """Rows of the closing table; a row marked `must_zero` (or `must_true`) fails the run when violated."""

    def __init__(self):
        self.rows = []

    def add(self, phase, name, value, must_zero=False, must_true=False):
        failed = (must_zero and value not in (0, None)) or (must_true and value is not True)
        self.rows.append((phase, name, value, "must be 0" if must_zero else "must hold" if must_true else "", failed))

    @property
    def failed(self):
        return [row for row in self.rows if row[4]]

    def print(self):
        log()
        log("== fault campaign figures")
        width = max(len(row[1]) for row in self.rows)
        phase = None
        for row_phase, name, value, rule, failed in self.rows:
            if row_phase != phase:
                log(row_phase)
                phase = row_phase
            shown = "yes" if value is True else "no" if value is False else value
            mark = "  FAIL" if failed else ""
            log("  %-*s  %-14s %s%s" % (width, name, shown, rule, mark))


def binaries(config):
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/opt/swift/usr/bin")
    return subprocess.run(["swift", "build", "-c", config, "--show-bin-path"], cwd=REPO, capture_output=True,
                          text=True, check=True, env=env).stdout.strip()


def snapshot_binaries(bin_dir, work):
    """Copies cpsd and cps-vcard into the work directory: the campaign restarts cpsd several times, and
    in a tree being rebuilt every restart must still run the build the campaign started with."""
    target = os.path.join(work, "bin")
    os.makedirs(target)
    for name in ("cpsd", "cps-vcard"):
        shutil.copy2(os.path.join(bin_dir, name), target)
    return target


def make_card(bin_dir, work):
    state = os.path.join(work, "card")
    read, write = os.pipe()
    os.write(write, (PIN + "\n").encode())
    os.close(write)
    subprocess.run([os.path.join(bin_dir, "cps-vcard"), "init", "--state", state, "--pin-fd", str(read)],
                   pass_fds=(read,), check=True, capture_output=True)
    os.close(read)
    return state


def pair(daemon):
    """Pairs with the bridge as the extension's popup does (the scripted pinentry shows the code)."""
    ca = os.path.join(daemon.env["XDG_STATE_HOME"], "cpsd", "bridge", "ca.pem")
    result = subprocess.run([PYTHON, os.path.join(REPO, "scripts", "bridge-pair.py"), str(daemon.bridge_port),
                             ca, daemon.env["CPSD_TEST_PINENTRY_LOG"]], env=daemon.env, capture_output=True,
                            text=True, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else None


def health(figures, phase, daemon, before, baseline_fds, crashes_before):
    """Crashes during the phase, cpsd's memory and fds after it, and a well-formed client still served.
    A crash restarted cpsd (to go on fuzzing): memory and fds are then compared with the new process."""
    if not daemon.alive():
        daemon.revive()
    crashes = daemon.crashes[crashes_before:]
    figures.add(phase, "cpsd crashes (restarted)", len(crashes), must_zero=True)
    for status, line in crashes[:3]:
        log("  CRASH: exit %s: %s" % (status, line.strip()[:200]))
    if crashes:
        before = daemon.snapshot()  # the new process: no before/after comparison is honest
    peak = daemon.peak_rss_kib()
    daemon.settle(baseline_fds)
    after = daemon.snapshot()
    figures.add(phase, "cpsd RSS before/after (KiB)", "%d / %d (%+d)" % (before["rss"], after["rss"],
                                                                        after["rss"] - before["rss"]))
    figures.add(phase, "cpsd peak RSS in the phase (KiB)", peak if not crashes else "n/a (restarted)")
    figures.add(phase, "cpsd fds before/after", "%d / %d" % (before["fds"], after["fds"]))
    figures.add(phase, "fds leaked", max(0, after["fds"] - before["fds"]), must_zero=True)
    figures.add(phase, "cpsd threads before/after", "%d / %d" % (before["threads"], after["threads"]))
    served, detail = well_formed_clients(daemon, PIN)
    figures.add(phase, "well-formed client served", served, must_true=True)
    if not served:
        log("  well-formed client: " + detail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="debug")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("FUZZ_SCALE", "1")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    rpc_frames = max(100, int(100_000 * args.scale))
    http_requests = max(100, int(100_000 * args.scale))
    card_ops = max(10, int(60 * min(1.0, args.scale * 4)))

    work = tempfile.mkdtemp(prefix="cpsd-fuzz-")
    bin_dir = snapshot_binaries(binaries(args.config), work)
    figures = Figures()
    stack = daemon = None
    started = time.monotonic()
    try:
        log("== make fuzz: seed %d, scale %g (%d RPC frames, %d HTTP requests, %d card operations per fault kind), "
            "%s build, work in %s" % (args.seed, args.scale, rpc_frames, http_requests, card_ops, args.config, work))
        card = make_card(bin_dir, work)
        stack = Stack(bin_dir, work, card, os.path.join(work, "faults.plan"))
        stack.set_faults("mode=off")
        with open(os.path.join(work, "pinentry-script"), "w") as script:
            script.write("ok\n")  # the pairing dialog; every later dialog is cancelled (no PIN ever typed)
        daemon = Daemon(bin_dir, work, stack.environment, 36500 + (os.getpid() % 400))
        daemon.start()
        served, detail = well_formed_clients(daemon, PIN)
        if not served:
            raise RuntimeError("the stack does not serve a well-formed client before any fault: " + detail)
        token = pair(daemon)
        log("   stack ready, cpsd pid %d, bridge port %d, %s" % (daemon.pid, daemon.bridge_port,
                                                               "paired" if token else "PAIRING FAILED"))
        baseline_fds = daemon.fds()

        phase = "1. p11-kit RPC frames over the Unix socket"
        log("\n== " + phase)
        tries = stack.fault_stats()["verifyRefused"]
        crashes = len(daemon.crashes)
        before = daemon.snapshot()
        daemon.reset_peak()
        rpc = rpc_fuzz.run(daemon, work, rpc_frames, args.seed, log=log)
        log("  %d frames on %d connections in %.1f s (%.0f frames/s); worst answer-or-close %.2f s"
            % (rpc["frames"], rpc["connections"], rpc["seconds"], rpc["frames"] / rpc["seconds"], rpc["worst"]))
        if rpc["hungKinds"]:
            log("  hangs by mutation: " + ", ".join("%s %d" % item for item in sorted(rpc["hungKinds"].items())))
            for frames in rpc["hungFrames"]:
                log("  hung: " + frames)
        log("  mutations: " + ", ".join("%s %d" % item for item in sorted(rpc["kinds"].items())))
        figures.add(phase, "fuzzed frames sent (one per connection)", rpc["frames"])
        figures.add(phase, "answered / refused by closing", "%d / %d" % (rpc["answered"],
                                                                         rpc["frames"] - rpc["answered"]))
        figures.add(phase, "seconds", round(rpc["seconds"], 1))
        figures.add(phase, "hangs (no answer/close in %g s)" % rpc_fuzz.HANG_BOUND, rpc["hangs"], must_zero=True)
        figures.add(phase, "connections refused", rpc["refused"], must_zero=True)
        figures.add(phase, "200 idle connections held/refused", "%d / %d" % (rpc["idle"]["held"], rpc["idle"]["refused"]))
        figures.add(phase, "PIN tries spent (card)", stack.fault_stats()["verifyRefused"] - tries, must_zero=True)
        health(figures, phase, daemon, before, baseline_fds, crashes)

        phase = "2. HTTP requests over TLS to the bridge"
        log("\n== " + phase)
        crashes = len(daemon.crashes)
        before = daemon.snapshot()
        daemon.reset_peak()
        http = http_fuzz.run(daemon, token, http_requests, args.seed)
        log("  %d requests on %d connections in %.1f s (%.0f requests/s); worst %.2f s"
            % (http["requests"], http["connections"], http["seconds"], http["requests"] / http["seconds"], http["worst"]))
        log("  statuses: " + ", ".join("%s %d" % item for item in sorted(http["statuses"].items(), key=str)))
        log("  kinds: " + ", ".join("%s %d" % item for item in sorted(http["kinds"].items())))
        for variant, data in http["crashers"].items():
            log("  CRASHER (quarantined after it crashed cpsd): %s: %r" % (variant, data[:160]))
        figures.add(phase, "requests sent", http["requests"])
        figures.add(phase, "answered / closed before answer", "%d / %d" % (http["answered"],
                                                                           http["requests"] - http["answered"]))
        figures.add(phase, "connections (closed by bridge)", "%d (%d)" % (http["connections"], http["closedByServer"]))
        figures.add(phase, "seconds", round(http["seconds"], 1))
        figures.add(phase, "hangs (no answer/close in %g s)" % http_fuzz.HANG_BOUND, http["hangs"], must_zero=True)
        figures.add(phase, "TLS connects failed", http["connectFailures"])
        figures.add(phase, "distinct crashing requests", len(http["crashers"]), must_zero=True)
        partials = http["partials"]
        figures.add(phase, "slowloris partials held / latest close", "%d / %.1f s" % (
            partials["held"], partials["latestClose"]))
        figures.add(phase, "partials still open after %g s" % partials["hold"],
                    partials["held"] - partials["closedByBridge"], must_zero=True)
        figures.add(phase, "/v1/status answers while partials held", partials["statusMeanwhile"], must_true=True)
        health(figures, phase, daemon, before, baseline_fds, crashes)
        if daemon.alive():
            figures.add(phase, "/v1/status answers afterwards", http_fuzz.status_answers(daemon.bridge_port),
                        must_true=True)

        phase = "3. fuzzed card answers (virtual card fault hooks)"
        log("\n== " + phase)
        crashes = len(daemon.crashes)
        before = daemon.snapshot()
        daemon.reset_peak()
        cards = card_faults.run(stack, daemon, PIN, card_ops, args.seed, log=log)
        figures.add(phase, "client operations", sum(m["ops"] for m in cards["modes"].values()))
        figures.add(phase, "signatures that succeeded", sum(m["signed"] for m in cards["modes"].values()))
        figures.add(phase, "card commands / faulty answers", "%d / %d" % (cards["cardCommands"],
                                                                          sum(cards["faults"].values())))
        figures.add(phase, "faults by kind", ", ".join("%s %d" % item for item in sorted(cards["faults"].items())))
        figures.add(phase, "PIN tries spent (card)", cards["triesSpent"], must_zero=True)
        figures.add(phase, "PIN counter before/after", "%d / %d" % (cards["triesBefore"], cards["triesAfter"]))
        figures.add(phase, "operations stuck > %d s" % card_faults.OP_TIMEOUT, cards["stuck"], must_zero=True)
        figures.add(phase, "card reads refused under faults", sum(m["readsRefused"] for m in cards["modes"].values()))
        figures.add(phase, "normal sign after faults stop", cards["recovered"], must_true=True)
        health(figures, phase, daemon, before, baseline_fds, crashes)

        phase = "4. fault matrix"
        log("\n== " + phase)
        daemon.revive()
        for result in fault_matrix.run(stack, daemon, PIN, log=log):
            name = result["name"]
            figures.add(phase, name + ": survived", result["survived"], must_true=True)
            figures.add(phase, name + ": tries lost", result["triesLost"], must_zero=True)
            figures.add(phase, name + ": login leaked", result["leaks"], must_zero=True)
            if name.startswith("card pulled"):
                figures.add(phase, name + ": login kept across removal", result["kept"], must_zero=True)
            figures.add(phase, name + ": PIN in log", result["logPinHits"], must_zero=True)
            figures.add(phase, name + ": client served after", result["served"], must_true=True)
            for line in result["logPinLines"]:
                log("  PIN-like log line: " + line[:200])

        phase = "5. core file"
        log("\n== " + phase)
        daemon.revive()
        core = fault_matrix.core_check(daemon, PIN, work, log=log)
        log("  " + core["verdict"])
        figures.add(phase, "SIGABRT with a PIN held", core["verdict"])
        figures.add(phase, "PIN bytes in a core file", core["pinHits"], must_zero=True)
        debugger = core["gcore"]
        figures.add(phase, "gcore (root debugger): PIN as ASCII", "not taken" if debugger is None else debugger["ascii"])
        figures.add(phase, "gcore: 4-byte packed BCD pattern", "not taken" if debugger is None else debugger["bcd"])
        for context in (core["gcore"] or {}).get("contexts", []):
            log("  gcore: PIN-like bytes in %r" % context)

        phase = "whole campaign"
        with open(daemon.log_path, errors="replace") as file:
            hits = fault_matrix.pin_hits(file.read(), PIN)
        figures.add(phase, "PIN bytes in cpsd's whole log", len(hits), must_zero=True)
        for line in hits[:5]:
            log("  PIN-like log line: " + line[:200])
        figures.add(phase, "cpsd crashes in all", len(daemon.crashes), must_zero=True)
        figures.add(phase, "PIN counter at the end", stack.pin_tries_left())
        figures.add(phase, "cpsd starts (1 + SIGTERM + SIGABRT)", daemon.starts)
        figures.add(phase, "seconds", round(time.monotonic() - started, 1))
    except Exception as error:  # noqa: BLE001 — a broken campaign is a failure, said plainly
        figures.add("campaign", "aborted: %s" % error, 1, must_zero=True)
        import traceback
        traceback.print_exc()
    finally:
        if daemon is not None and daemon.alive():
            daemon.stop()
        if stack is not None:
            stack.stop()
        figures.print()
        if args.keep:
            log("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if figures.failed:
        log("FAILED: " + "; ".join("%s: %s" % (row[1], row[2]) for row in figures.failed))
        return 1
    log("all must-be-zero figures are zero; cpsd never crashed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
