#!/usr/bin/env bash
# Installs the Debian packages cpsd builds, tests and demos with, when any is missing.
# Idempotent and quiet when everything is there; uses sudo when not run as root.
set -euo pipefail

packages=(
    pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc
    p11-kit p11-kit-modules libp11-kit-dev
    util-linux iproute2 openssl procps psmisc curl rpm2cpio cpio
    # The drop-in PKCS#11 module and the C test clients are built with cc against p11-kit's and OpenSSL's headers.
    gcc pkg-config libssl-dev
    libnss3-tools gnutls-bin python3-pykcs11
    # Real browsers: logins by TLS client authentication (on a private Xvfb display), the WebExtension (headless).
    chromium chromium-driver python3-selenium firefox-esr xvfb xdotool x11-utils
    # The PIN dialog: the real pinentry-curses, driven in tmux by its test.
    tmux pinentry-curses python3
    # make packages / make test-packages: the .deb and .rpm tools and their linters.
    dpkg-dev rpm lintian rpmlint
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian's pcscd package may start a system pcscd (socket activation). cpsd's stacks never use it, but
# a system pcscd holding the default vpcd ports (35963/35964) would confuse people: leave it alone and say so.
if pgrep -x pcscd >/dev/null; then
    echo "note: a system pcscd is running; cpsd's virtual stack runs its own, isolated one."
fi
