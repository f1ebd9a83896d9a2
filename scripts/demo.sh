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
cpsd_pid=
cleanup() {
    [[ -n "$cpsd_pid" ]] && { kill -TERM "$cpsd_pid" 2>/dev/null; wait "$cpsd_pid" 2>/dev/null; }
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
step "$bin/cpsctl" apdu 00A4000C023F00 00B09C000C
step "$bin/cpsctl" card info --direct

echo
echo "Starting cpsd: it owns the reader and serves the card as a PKCS#11 token on $dir/pkcs11."
rm -f "$dir/pkcs11"
"$bin/cpsd" --socket "$dir/pkcs11" 2>"$dir/cpsd.log" & cpsd_pid=$!
for _ in $(seq 100); do [[ -S "$dir/pkcs11" ]] && break; sleep 0.05; done
export P11_KIT_SERVER_ADDRESS="unix:path=$dir/pkcs11"
module=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
step pkcs11-tool --module "$module" --list-token-slots
step pkcs11-tool --module "$module" --list-objects

echo
echo "Signing through cpsd with the signature key (the card finishes the SHA-256), PIN 1234, then OpenSSL checks it:"
printf 'Ordonnance du %s\n' "$(date +%F)" > "$dir/document.txt"
step pkcs11-tool --module "$module" --login --pin 1234 --sign --mechanism SHA256-RSA-PKCS \
    --id e828bd080f8025000001ff001001 --input-file "$dir/document.txt" --output-file "$dir/document.sig"
step pkcs11-tool --module "$module" --read-object --type cert --id e828bd080f8025000001ff001001 \
    --output-file "$dir/sig.der"
openssl x509 -inform DER -in "$dir/sig.der" -pubkey -noout > "$dir/sig.pub"
step openssl dgst -sha256 -verify "$dir/sig.pub" -signature "$dir/document.sig" "$dir/document.txt"

echo
echo "cpsctl now goes through cpsd too (no fight over the reader):"
step "$bin/cpsctl" card info --daemon-socket "$dir/pkcs11"
echo
echo "cpsd's audit line for that signature (no PIN is ever logged):"
grep 'audit=signature' "$dir/cpsd.log" | tail -1
echo
echo "Pulling the card out and putting it back, as cpsctl readers --watch sees it:"
"$bin/cpsctl" readers --watch > "$dir/watch.log" & watch_pid=$!
sleep 0.5; echo "remove 0" >&"$stack_in"; sleep 1; echo "insert 0" >&"$stack_in"; sleep 1.2
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
cat "$dir/watch.log"
