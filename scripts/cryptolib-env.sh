#!/usr/bin/env bash
# Runs a command with the vendor's Cryptolib CPS 5.2.2, unchanged, installed at its fixed paths inside a
# private mount namespace: the host's /etc/opt, /var/opt and /opt are never written.
#
#   scripts/cryptolib-env.sh --root DIR [--cache DIR] [--] COMMAND [ARGS...]
#
# - The RPM (../shared/vendor/cryptolib-5.2.2, or $CRYPTOLIB_RPM) is extracted once with rpm2cpio|cpio
#   into the cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/cpsd/cryptolib-5.2.2); nothing of it
#   is ever copied into the project.
# - DIR gets a fresh copy of its /etc/opt/santesocial/CPS with traces on (`debug = 9`, every APDU) and an
#   empty card cache, and an empty /var/opt/santesocial/CPS: the module's trace lands in DIR/var/log/.
# - COMMAND runs in `unshare --mount` where /etc/opt/santesocial/CPS, /var/opt/santesocial/CPS and
#   /opt/santesocial are those directories; CRYPTOLIB_MODULE names the module at its fixed path.
# Needs root (unshare + mounts). PCSCLITE_CSOCK_NAME in the environment points the module at a pcscd.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rpm=${CRYPTOLIB_RPM:-$here/../../shared/vendor/cryptolib-5.2.2/CryptolibCPS-5.2.2-1.x86_64.rpm}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cpsd/cryptolib-5.2.2
root=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[[ -n "$root" && $# -gt 0 ]] || { echo "usage: $0 --root DIR [--cache DIR] [--] COMMAND..." >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "cryptolib-env: needs root for its private mounts" >&2; exit 2; }

module_rel=opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so
if [[ ! -f "$cache/$module_rel" ]]; then
    [[ -f "$rpm" ]] || { echo "cryptolib-env: no vendor package at $rpm" >&2; exit 3; }
    command -v rpm2cpio >/dev/null && command -v cpio >/dev/null \
        || { echo "cryptolib-env: rpm2cpio and cpio are needed (scripts/install-deps.sh)" >&2; exit 3; }
    partial="$cache.partial.$$"
    rm -rf "$partial" && mkdir -p "$partial"
    (cd "$partial" && rpm2cpio "$rpm" | cpio -idm --quiet)
    rm -rf "$cache" && mkdir -p "$(dirname "$cache")" && mv "$partial" "$cache"
fi

# A fresh configuration per run: traces at their most verbose, no cached card files.
mkdir -p "$root"
rm -rf "$root/etc" "$root/var" "$root/opt"
mkdir -p "$root/var/log" "$root/opt" "$root/hostopt"
cp -a "$cache/etc/opt/santesocial/CPS" "$root/etc"
rm -rf "$root/etc/cache"
printf 'Traces\n{\n\tactive = true;\n\tdebug = 9;\n}\n' >"$root/etc/cps3_pkcs11.conf"
cp -a "$cache/opt/santesocial/." "$root/opt/"

# Inside the namespace: tmpfs over /etc/opt and /var/opt (nothing of the host's shows), and over /opt with
# the host's own entries bound back so that only /opt/santesocial is new.
export CRYPTOLIB_ROOT=$root
export CRYPTOLIB_MODULE=/$module_rel
export CPSD_SCRIPTS=$here
exec unshare --mount --propagation private -- bash -c '
    set -euo pipefail
    r=$CRYPTOLIB_ROOT
    source "$CPSD_SCRIPTS/private-opt.sh"
    private_opt "$r/hostopt"
    mkdir -p /opt/santesocial && mount --bind "$r/opt" /opt/santesocial
    for top in /etc/opt /var/opt; do mount -t tmpfs cryptolib-etc "$top"; mkdir -p "$top/santesocial/CPS"; done
    mount --bind "$r/etc" /etc/opt/santesocial/CPS
    mount --bind "$r/var" /var/opt/santesocial/CPS
    exec "$@"
' cryptolib-env "$@"
