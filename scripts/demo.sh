#!/usr/bin/env bash
# `make demo`: a private pcscd with one virtual CPS3 card (cps-vcard), cpsctl looking at it, cpsd serving
# it over PKCS#11, then a card login in a real (headless) Chromium through the WebExtension, cpsd's bridge
# and the demo relying party. Everything runs in the foreground and is stopped on exit; nothing touches a
# pcscd, a cpsd or a browser profile you already have.
set -euo pipefail
dir=${1:-$PWD/.build/demo}
bin=$(swift build --show-bin-path)
mkdir -p "$dir" && chmod 700 "$dir"   # cpsd serves only from a directory of the user's alone
rm -f "$dir/stack.out"

coproc STACK { exec "$bin/cps-vcard" stack --dir "$dir" --readers 1 2>"$dir/stack.err"; }
stack_pid=$STACK_PID
stack_in=${STACK[1]}
cpsd_pid=
rp_pid=
cleanup() {
    for pid in $rp_pid $cpsd_pid; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
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
echo "Starting cpsd: it owns the reader and serves the card as a PKCS#11 token on $dir/pkcs11,"
echo "and its browser bridge on 127.0.0.1/[::1] (a free port, state in $dir/state)."
rm -rf "$dir/pkcs11" "$dir/state" "$dir/browser" "$dir/rp"
bridge_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# PIN dialogs: a real session shows the desktop's pinentry; the demo answers with the scripted one (PIN 1234).
export XDG_STATE_HOME="$dir/state" CPSD_TEST_PINENTRY_SCRIPT="$dir/pinentry-script" CPSD_TEST_PINENTRY_LOG="$dir/pinentry-log"
printf 'ok\npin 1234\n' > "$CPSD_TEST_PINENTRY_SCRIPT"; rm -f "$CPSD_TEST_PINENTRY_SCRIPT.pos" "$CPSD_TEST_PINENTRY_LOG"
"$bin/cpsd" --socket "$dir/pkcs11" --bridge-port "$bridge_port" --pinentry "$PWD/Tests/Fixtures/scripted-pinentry" \
    2>"$dir/cpsd.log" & cpsd_pid=$!
for _ in $(seq 100); do [[ -S "$dir/pkcs11" ]] && grep -q "bridge listening" "$dir/cpsd.log" && break; sleep 0.05; done
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

echo
echo "Card login in a browser (Web eID token through the bridge), on the demo relying party:"
"$bin/cps-demo-rp" --port 0 --tls-client-port 0 --state-dir "$dir/rp" > "$dir/rp.log" 2>&1 & rp_pid=$!
for _ in $(seq 100); do grep -q '^ready' "$dir/rp.log" && break; sleep 0.05; done
rp_origin=$(sed -n 's|.*login page: \(https://localhost:[0-9]*\)/.*|\1|p' "$dir/rp.log" | head -1)
rp_ca=$(sed -n 's|.*TLS CA (trust it in the browser profile): \(.*\)$|\1|p' "$dir/rp.log" | head -1)
[[ -n "$rp_origin" && -n "$rp_ca" ]] || { echo "cps-demo-rp did not start:"; cat "$dir/rp.log"; exit 1; }
mkdir -p "$dir/browser"
# A fresh browser home: cpsctl setup trusts cpsd's CA there (and registers the PKCS#11 module), certutil the demo's.
step env HOME="$dir/browser" "$bin/cpsctl" setup
certutil -A -d "sql:$dir/browser/.pki/nssdb" -n "cps-demo-rp CA" -t "C,," -i "$rp_ca"
HOME="$dir/browser" /usr/bin/python3 scripts/demo-browser-login.py "$bridge_port" "$rp_origin" "$CPSD_TEST_PINENTRY_LOG" \
    "$dir/browser/profile"
echo
echo "cpsd's log of that login (the origin the browser gave, the audit line of the card's signature):"
grep -E 'bridge authentication|audit=signature' "$dir/cpsd.log" | tail -2
echo "The demo relying party checked the token (signature, origin, single-use nonce, chain to the test IGC-Santé roots):"
grep 'POST /auth/login' "$dir/rp.log" | tail -1
