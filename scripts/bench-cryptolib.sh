#!/usr/bin/env bash
# `make bench`, part 2: what a user feels, cpsd beside the vendor's Cryptolib CPS 5.2.2 on the same card in the
# same run. For a CPS3 and a CPS4, each a virtual card taking a real card's time (`cps-vcard --timing real`,
# Sources/VirtualCard/Timing/CardTiming.swift), behind one private pcscd that both middlewares use:
#   1. a new client listing the token and reading both certificates: cpsd (p11-kit-client.so, answering from
#      memory) vs Cryptolib with a cold cache (a fresh scripts/cryptolib-env.sh root each run);
#   2. signatures after login, median of N, with each key (and PSS on the CPS4 auth key);
#   3. APDUs per operation, counted by the virtual card itself (CPS_VCARD_FAULTS with an empty plan: no fault,
#      only its counter), against the minimum the card needs.
# The timing client is scripts/bench/p11-timing.c, built here with cc. Needs root for Cryptolib (private mounts);
# without root or the vendor package, only cpsd's figures are printed.
set -euo pipefail
config=${1:-debug}
runs=${BENCH_LIST_RUNS:-3}
signs=${BENCH_SIGNATURES:-10}
here=$(cd "$(dirname "$0")" && pwd)
export CRYPTOLIB_RPM=${CRYPTOLIB_RPM:-$here/../../shared/vendor/cryptolib-5.2.2/CryptolibCPS-5.2.2-1.x86_64.rpm}
dir=$(mktemp -d /tmp/cpsd-bench-cryptolib-XXXXXX)
bin=$(swift build -c "$config" --show-bin-path)
client_module=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

cc -O2 -Wall -I/usr/include/p11-kit-1 -o "$dir/p11-timing" "$here/bench/p11-timing.c" -ldl
with_cryptolib=yes
if [[ $(id -u) -ne 0 || ! -f "$CRYPTOLIB_RPM" ]]; then
    with_cryptolib=no
    echo "(Cryptolib columns skipped: needs root and $CRYPTOLIB_RPM)"
fi

median() { grep -v n/a | sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.1f", v[int((NR+1)/2)]; else printf "n/a"}'; }
# The word after KEY on the first line having it; n/a when none does (keeps the row's columns in place).
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i+1); found = 1; exit}} END {if (!found) print "n/a"}'; }

# Cryptolib in its namespace, traces off (they would slow it down: every APDU logged), cold cache.
cryptolib() {
    "$here/cryptolib-env.sh" --root "$dir/cryptolib-root" -- bash -c '
        printf "Traces\n{\n\tactive = false;\n\tdebug = 0;\n}\n" >/etc/opt/santesocial/CPS/cps3_pkcs11.conf
        exec "$0" "$1" "$CRYPTOLIB_MODULE" "${@:2}"' "$dir/p11-timing" "$@"
}

# One generation: its stack, its cpsd, every figure; prints table rows to $dir/rows.
bench_generation() {
    local generation=$1 sig_mech=$2
    local work="$dir/$generation" specs
    # cpsd wants its socket's directory private (mode 0700).
    mkdir -m 700 -p "$work"
    : >"$work/plan"
    export BENCH_CARD_STATS="$work/plan.stats"
    coproc STACK { CPS_VCARD_FAULTS="$work/plan" exec "$bin/cps-vcard" stack --dir "$work/stack" --readers 1 \
        --generation "$generation" --timing real 2>"$work/stack.err"; }
    pids+=("$STACK_PID")
    while IFS= read -r -t 30 line <&"${STACK[0]}"; do
        [[ "$line" == ready ]] && break
        [[ "$line" == export\ * ]] && eval "$line"
    done
    if [[ $generation == cps3 ]]; then
        specs=("auth:e828bd080f8025000001ff001002:rsa-pkcs" "sig:e828bd080f8025000001ff001001:$sig_mech")
    else
        specs=("auth:e828bd080f8025000001ff001020:rsa-pkcs" "sig:e828bd080f8025000001ff001010:$sig_mech"
            "auth-pss:e828bd080f8025000001ff001020:rsa-pkcs-pss")
    fi

    local start ready
    start=$(date +%s.%N)
    "$bin/cpsd" --socket "$work/pkcs11" --no-bridge 2>"$work/cpsd.log" & pids+=("$!")
    export P11_KIT_SERVER_ADDRESS="unix:path=$work/pkcs11"
    for _ in $(seq 600); do
        [[ -S "$work/pkcs11" ]] && "$dir/p11-timing" list "$client_module" 2>/dev/null | grep -q "certs 2" && break
        sleep 0.1
    done
    ready=$(date +%s.%N)
    "$dir/p11-timing" list "$client_module" | grep -q "certs 2" \
        || { echo "$generation: cpsd never served the token"; tail -5 "$work/cpsd.log" "$work/stack.err"; return 1; }
    printf '%s cpsd-ready %.0f\n' "$generation" "$(awk -v a="$start" -v b="$ready" 'BEGIN { print (b - a) * 1000 }')" >>"$dir/rows"

    # A failed run leaves its `error …` line in the file, printed below the table; the bench goes on.
    for _ in $(seq "$runs"); do "$dir/p11-timing" list "$client_module" || true; done >"$work/cpsd-list"
    "$dir/p11-timing" sign "$client_module" 1234 "$signs" "${specs[@]}" >"$work/cpsd-sign" || true
    if [[ $with_cryptolib == yes ]]; then
        for _ in $(seq "$runs"); do cryptolib list || true; done >"$work/cryptolib-list" 2>"$work/cryptolib.err"
        cryptolib sign 1234 "$signs" "${specs[@]}" >"$work/cryptolib-sign" 2>>"$work/cryptolib.err" || true
    fi
    summarize "$generation" "$work" "${specs[@]}"
    kill -TERM "${pids[-1]}" "$STACK_PID" 2>/dev/null || true
    wait "${pids[-1]}" "$STACK_PID" 2>/dev/null || true
}

summarize() {
    local generation=$1 work=$2 spec name
    shift 2
    local c_list k_list c_apdus k_apdus
    touch "$work/cryptolib-list" "$work/cryptolib-sign"
    c_list=$(grep '^list' "$work/cpsd-list" | awk '{print $2}' | median)
    c_apdus=$(grep '^list' "$work/cpsd-list" | awk '{print $NF}' | median)
    k_list=$(grep '^list' "$work/cryptolib-list" | awk '{print $2}' | median)
    k_apdus=$(grep '^list' "$work/cryptolib-list" | awk '{print $NF}' | median)
    echo "$generation list $c_list $k_list $c_apdus $k_apdus $(field bytes <"$work/cpsd-list")" >>"$dir/rows"
    echo "$generation login $(field login <"$work/cpsd-sign") $(field login <"$work/cryptolib-sign") \
$(grep '^login' "$work/cpsd-sign" | field apdus) $(grep '^login' "$work/cryptolib-sign" | field apdus)" >>"$dir/rows"
    echo "$generation relogin $(grep '^relogin' "$work/cpsd-sign" | field relogin) \
$(grep '^relogin' "$work/cryptolib-sign" | field relogin) $(grep '^relogin' "$work/cpsd-sign" | field apdus) \
$(grep '^relogin' "$work/cryptolib-sign" | field apdus)" >>"$dir/rows"
    for spec in "$@"; do
        name=${spec%%:*}
        echo "$generation sign-$name ${spec##*:} $(grep "^sign $name " "$work/cpsd-sign" | field median) \
$(grep "^sign $name " "$work/cryptolib-sign" | field median) $(grep "^sign $name " "$work/cpsd-sign" | field apdus) \
$(grep "^sign $name " "$work/cryptolib-sign" | field apdus)" >>"$dir/rows"
    done
    grep -H '^error' "$work"/cpsd-* "$work"/cryptolib-* 2>/dev/null | sed "s|^$work/|$generation |" >>"$dir/errors" || true
}

: >"$dir/rows"
bench_generation cps3 sha256-rsa-pkcs
bench_generation cps4 sha256-rsa-pkcs
"$here/bench/report.sh" "$config" "$runs" "$signs" <"$dir/rows"
[[ -s "$dir/errors" ]] && { echo "errors (file: first failing call):"; cat "$dir/errors"; }
true
