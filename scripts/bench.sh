#!/usr/bin/env bash
# `make bench`: every benchmark on the virtual stack, figures printed (no pass/fail).
# A private pcscd with one reader, a virtual CPS3 in its own process (so the benchmark can pull and
# reinsert it), cpsd, then cpsctl bench apdu / card / pkcs11. Everything is stopped on exit.
set -euo pipefail
config=${1:-debug}
dir=$(mktemp -d /tmp/cpsd-bench-XXXXXX)
bin=$(swift build -c "$config" --show-bin-path)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

coproc STACK { exec "$bin/cps-vcard" stack --dir "$dir/stack" --readers 1 --cards 0 2>"$dir/stack.err"; }
pids+=("$STACK_PID")
while IFS= read -r -t 20 line <&"${STACK[0]}"; do
    [[ "$line" == ready ]] && break
    [[ "$line" == export\ * ]] && eval "$line"
done
port=$(sed -n 's/^DEVICENAME.*:\([0-9]*\)$/\1/p' "$dir"/stack/conf/* | sort -n | head -1)
"$bin/cps-vcard" init --state "$dir/card" >/dev/null 2>&1
"$bin/cps-vcard" run --state "$dir/card" --vpcd "127.0.0.1:$port" 2>"$dir/card.err" </dev/null & card_pid=$!
pids+=("$card_pid")
for _ in $(seq 100); do "$bin/cpsctl" readers 2>/dev/null | grep -q CPS3 && break; sleep 0.05; done

printf '1234\n' > "$dir/pin"
echo "== cpsctl bench apdu ($config build)"
"$bin/cpsctl" bench apdu
echo; echo "== cpsctl bench card"
"$bin/cpsctl" bench card --pin-fd 3 3<"$dir/pin"

# cpsd with its bridge on a private port and home; its PIN dialogs are answered by the scripted pinentry
# (one "ok" for the pairing dialog, then the PIN for every timed login).
bridge_port=$((36500 + RANDOM % 400))
export XDG_DATA_HOME="$dir/data" XDG_STATE_HOME="$dir/state"
export CPSD_TEST_PINENTRY_SCRIPT="$dir/pinentry-script" CPSD_TEST_PINENTRY_LOG="$dir/pinentry-log"
{ echo ok; for _ in $(seq 200); do echo "pin 1234"; done; } > "$CPSD_TEST_PINENTRY_SCRIPT"
"$bin/cpsd" --socket "$dir/pkcs11" --bridge-port "$bridge_port" --pinentry "$PWD/Tests/Fixtures/scripted-pinentry" \
    2>"$dir/cpsd.log" & pids+=("$!")
for _ in $(seq 100); do [[ -S "$dir/pkcs11" ]] && grep -q "bridge listening" "$dir/cpsd.log" && break; sleep 0.05; done
echo; echo "== cpsctl bench pkcs11"
"$bin/cpsctl" bench pkcs11 --daemon-socket "$dir/pkcs11" --reinsert-pid "$card_pid" --pin-fd 3 3<"$dir/pin" 2>&1 \
    | grep -v '^Access:'

echo; echo "== cpsctl bench bridge (the scripted pinentry answers each PIN dialog)"
scripts/bridge-pair.py "$bridge_port" "$XDG_STATE_HOME/cpsd/bridge/ca.pem" "$CPSD_TEST_PINENTRY_LOG" > "$dir/bridge-token"
"$bin/cpsctl" bench bridge --port "$bridge_port" --token-file "$dir/bridge-token" --daemon-socket "$dir/pkcs11" \
    --count 50 --pin-fd 3 3<"$dir/pin" 2>&1 | grep -v '^Access:'
