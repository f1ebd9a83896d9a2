#!/usr/bin/env bash
# Prints the table of scripts/bench-cryptolib.sh from its rows (stdin), with the goals of issue 11 and the
# minimum APDUs each operation needs from the card.
#   <gen> cpsd-ready <ms>
#   <gen> list <cpsd ms> <cryptolib ms> <cpsd apdus> <cryptolib apdus> <cert bytes>
#   <gen> login <cpsd ms> <cryptolib ms> <cpsd apdus> <cryptolib apdus>
#   <gen> relogin <cpsd ms> <cryptolib ms> <cpsd apdus> <cryptolib apdus>
#   <gen> sign-<key> <mech> <cpsd ms> <cryptolib ms> <cpsd apdus> <cryptolib apdus>
set -euo pipefail
config=$1 runs=$2 signs=$3

# The fewest APDUs the card needs (T=0, PIN already verified for signatures):
#   login: VERIFY. CPS3 auth: MSE SET AT + INTERNAL AUTHENTICATE + GET RESPONSE. Signature key (both cards)
#   and CPS4 PSS: MSE SET DST + PSO CDS carrying the host's hash + GET RESPONSE. CPS4 auth CKM_RSA_PKCS:
#   MSE + PSO DECIPHER in two chained chunks + GET RESPONSE. Reading the two certificates from the card
#   (a cold read): per certificate one SELECT, then READ BINARY chunks of 231 (CPS3) or 256 (CPS4) bytes.
minimum() {
    case "$1:$2" in
        *:login) echo 1 ;;
        cps3:sign-auth) echo 3 ;;
        cps4:sign-auth) echo 4 ;;
        *:sign-*) echo 3 ;;
        cps3:list) echo $((2 + ($3 + 230) / 231 + 1)) ;;
        cps4:list) echo $((2 + ($3 + 255) / 256 + 1)) ;;
    esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > 0 && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo "== cpsd vs Cryptolib CPS 5.2.2, cards with --timing real ($config build of cpsd and cps-vcard)"
echo "   CPS3: T=0 at 9600 bit/s, RSA-2048 150 ms; CPS4: T=0 at 115200 bit/s, RSA-2048 76 ms (CardTiming.swift)"
echo "   list: median of $runs new clients; sign: median of $signs signatures after one login; APDUs counted by the card"
printf '%-5s %-34s %11s %11s %9s %12s %12s %8s\n' card operation "cpsd ms" "Cryptolib ms" ratio "APDUs cpsd" "APDUs Cryptolib" "min"
while read -r gen what a b c d e f; do
    case "$what" in
        cpsd-ready)
            printf '%-5s %-34s %11s\n' "$gen" "cpsd start → token ready (its card read)" "$a" ;;
        list)
            printf '%-5s %-34s %11s %11s %9s %12s %12s %8s\n' "$gen" "new client: list + both certs" "$a" "${b:-n/a}" \
                "$(ratio "${b:-0}" "$a")×" "$c" "${d:-n/a}" "0/≈$(minimum "$gen" list "${e:-0}")" ;;
        login)
            printf '%-5s %-34s %11s %11s %9s %12s %12s %8s\n' "$gen" "C_Login" "$a" "${b:-n/a}" \
                "$(ratio "$a" "${b:-0}")" "$c" "${d:-n/a}" "$(minimum "$gen" login)" ;;
        relogin)
            printf '%-5s %-34s %11s %11s %9s %12s %12s %8s\n' "$gen" "C_Login again (after a C_Logout)" "$a" "${b:-n/a}" \
                "$(ratio "$a" "${b:-0}")" "$c" "${d:-n/a}" "$(minimum "$gen" login)" ;;
        sign-*)
            printf '%-5s %-34s %11s %11s %9s %12s %12s %8s\n' "$gen" "${what#sign-} key, $a" "$b" "${c:-n/a}" \
                "$(ratio "$b" "${c:-0}")" "$d" "${e:-n/a}" "$(minimum "$gen" "$what")" ;;
    esac
done
echo "ratio: list = Cryptolib/cpsd (goal ≥ 10×); signatures = cpsd/Cryptolib (goal ≤ 1.05); C_Login = cpsd/Cryptolib"
echo "       (no goal: cpsd's first login also reads the private data objects, once per card, and every login"
echo "       first asks the card whether another middleware verified it: one VERIFY without data)."
echo "sign: after the first, cpsd signs in its verified hold (verified-hold-ms), as Cryptolib in its login."
echo "min: list = 0 for cpsd (it read the card at insertion) / ≈ a cold read of the two certificates."
