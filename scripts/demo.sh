#!/usr/bin/env bash
# `make demo`: a private pcscd with one virtual CPS3 card (cps-vcard), and cpsctl looking at it.
# Everything runs in the foreground and is stopped on exit; nothing touches a pcscd you already run.
set -euo pipefail
dir=${1:-$PWD/.build/demo}
bin=$(swift build --show-bin-path)
mkdir -p "$dir"
rm -f "$dir/stack.out"

coproc STACK { exec "$bin/cps-vcard" stack --dir "$dir" --readers 1 2>"$dir/stack.err"; }
stack_pid=$STACK_PID
stack_in=${STACK[1]}
cleanup() {
    { echo quit >&"$stack_in"; } 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
}
trap cleanup EXIT

# The stack prints shell assignments, then "ready" once every reader has its card powered.
while IFS= read -r -t 20 line <&"${STACK[0]}"; do
    [[ "$line" == ready ]] && break
    [[ "$line" == export\ * ]] && eval "$line"   # our own shell-quoted output
done
[[ -n "${PCSCLITE_CSOCK_NAME:-}" ]] || { echo "the virtual stack did not start:"; cat "$dir/stack.err"; exit 1; }

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
echo "Virtual stack up: pcscd at $PCSCLITE_CSOCK_NAME (private), one virtual CPS3 card."
step "$bin/cpsctl" readers
step "$bin/cpsctl" readers --json
step "$bin/cpsctl" apdu 00A4000C023F00 00B09C000C
step opensc-tool --list-readers
step "$bin/cpsctl" card info
step "$bin/cpsctl" card certs --export "$dir/certs"

echo
echo "Signing with the signature key (the card finishes the SHA-256), PIN 1234 given on fd 3, then OpenSSL checks it:"
printf 'Ordonnance du %s\n' "$(date +%F)" > "$dir/document.txt"
printf '1234\n' > "$dir/pin"
step "$bin/cpsctl" sign --key sig --mechanism SHA256-RSA-PKCS --in "$dir/document.txt" --out "$dir/document.sig" --pin-fd 3 3<"$dir/pin"
openssl x509 -in "$dir/certs/sig.pem" -pubkey -noout > "$dir/certs/sig.pub"
step openssl dgst -sha256 -verify "$dir/certs/sig.pub" -signature "$dir/document.sig" "$dir/document.txt"
rm -f "$dir/pin"
echo
echo "Pulling the card out and putting it back, as cpsctl readers --watch sees it:"
"$bin/cpsctl" readers --watch > "$dir/watch.log" & watch_pid=$!
sleep 0.5; echo "remove 0" >&"$stack_in"; sleep 1; echo "insert 0" >&"$stack_in"; sleep 1.2
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
cat "$dir/watch.log"
