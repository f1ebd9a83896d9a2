#!/usr/bin/env bash
# Runs a command with cpsd's drop-in module at Cryptolib's fixed path, inside a private mount namespace: the
# host's /opt is never written (the same private /opt as scripts/cryptolib-env.sh).
#
#   scripts/module-env.sh --module FILE [--] COMMAND [ARGS...]
#
# Inside, /opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so is FILE (bind-mounted), as practice software finds
# Cryptolib; CPS_MODULE names that path. Needs root (unshare + mounts).
set -euo pipefail
module=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --module) module=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[[ -f "$module" && $# -gt 0 ]] || { echo "usage: $0 --module FILE [--] COMMAND..." >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "module-env: needs root for its private mounts" >&2; exit 2; }
export CPS_MODULE_FILE=$(realpath "$module")
export CPS_MODULE=/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so
scratch=$(mktemp -d /tmp/cpsd-module-env-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/hostopt"
export CPS_MODULE_SCRATCH=$scratch
export CPSD_SCRIPTS=$(cd "$(dirname "$0")" && pwd)
unshare --mount --propagation private -- bash -c '
    set -euo pipefail
    source "$CPSD_SCRIPTS/private-opt.sh"
    private_opt "$CPS_MODULE_SCRATCH/hostopt"
    mkdir -p /opt/santesocial/CPS/lib && touch "$CPS_MODULE"
    mount --bind "$CPS_MODULE_FILE" "$CPS_MODULE"
    "$@"
' module-env "$@"
