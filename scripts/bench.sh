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

"$bin/cpsd" --socket "$dir/pkcs11" 2>"$dir/cpsd.log" & pids+=("$!")
for _ in $(seq 100); do [[ -S "$dir/pkcs11" ]] && break; sleep 0.05; done
echo; echo "== cpsctl bench pkcs11"
"$bin/cpsctl" bench pkcs11 --daemon-socket "$dir/pkcs11" --reinsert-pid "$card_pid" --pin-fd 3 3<"$dir/pin" 2>&1 \
    | grep -v '^Access:'
