#!/usr/bin/env bash
# `make test-packages` (part of `make test`): builds the .deb and .rpm packages, checks the .rpm's files,
# dependencies and scriptlets and lints both, then installs the .debs on this machine (root) and, as a new
# user with an empty home, checks that the card works: cpsd socket-activated (systemd-socket-activate,
# there is no user manager here), a pkcs11-tool signature through the stock p11-kit client, `cpsctl diag`
# all ok, the first-login registration and Chromium seeing the token and the extension. Then an upgrade
# to a package of a higher version under a running signature loop, remove, purge, and the system's file
# list compared with the one taken before the install. Prints the figures of Packaging/README.md.
#
#   scripts/test-packages.sh [--no-build]     (--no-build: use the packages already in out/packages)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH=/opt/swift/usr/bin:$PATH

build=1
[[ "${1:-}" == --no-build ]] && build=0

die() { echo "test-packages: FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
ok() { echo "   ok: $*"; }

if [[ $(id -u) -ne 0 ]]; then
    echo "test-packages: SKIPPED: it needs root (it installs the packages on this machine and makes a throwaway user);"
    echo "  run: sudo make test-packages   (CI runs make test as root)"
    exit 0
fi
for tool in apt-get dpkg lintian rpm rpmlint systemd-socket-activate pkcs11-tool certutil modutil chromium setpriv; do
    command -v "$tool" >/dev/null || die "$tool is missing (make deps installs it)"
done
/usr/bin/python3 -c 'import PyKCS11' 2>/dev/null || die "python3-pykcs11 is missing (make deps)"
# A run killed outright (SIGKILL: no trap) leaves its packages and user: its processes died with it
# (--pdeathsig), the rest is cleaned here, from the note it left.
marker=/run/cpsd-package-test
if [[ -f "$marker" ]]; then
    read -r old_pid old_user old_work < "$marker" || true
    if [[ -n "${old_pid:-}" ]] && ! kill -0 "$old_pid" 2>/dev/null; then
        echo "test-packages: cleaning up after an interrupted run (pid $old_pid, user $old_user)"
        for package in cpsd-tools cpsd cpsd-test-cryptolib-standin; do
            dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'installed' \
                && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$package" >/dev/null 2>&1
        done
        [[ "${old_work:-}" == /tmp/cpsd-pkgtest.* ]] && rm -rf "$old_work"
        if [[ "${old_user:-}" == cpsdpkg* ]] && id "$old_user" >/dev/null 2>&1; then
            for pid in $(pgrep -u "$old_user"); do kill -KILL "$pid" 2>/dev/null; done
            userdel -r "$old_user" >/dev/null 2>&1 || true
        fi
        rm -f "$marker"
    fi
fi
dpkg-query -W -f='${Status}' cpsd 2>/dev/null | grep -q "install ok" \
    && die "a cpsd package is already installed here: remove it first (apt-get purge cpsd cpsd-tools)"

version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/SmartCardCore/Release.swift)
next_version=$version.1
out=$root/out/packages
work=$(mktemp -d /tmp/cpsd-pkgtest.XXXXXX)
chmod 755 "$work"
client=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
user=cpsdpkg$$
user_made=0
installed=0
stack_pid=""
cpsd_pid=""
loop_pid=""
chromium_pid=""
rp_pid=""

cleanup() {
    local status=$?
    set +e
    for pid in $loop_pid $chromium_pid $rp_pid; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    if [[ -n "$cpsd_pid" ]]; then kill -TERM "$cpsd_pid" 2>/dev/null; wait "$cpsd_pid" 2>/dev/null; fi
    if [[ -n "$stack_pid" ]]; then
        { echo quit >&"${STACK[1]}"; } 2>/dev/null
        for _ in $(seq 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null
    fi
    if [[ $user_made -eq 1 ]]; then
        for pid in $(pgrep -u "$user"); do kill -KILL "$pid" 2>/dev/null; done   # the throwaway user's own
        userdel -r "$user" >/dev/null 2>&1
    fi
    if [[ $installed -eq 1 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq cpsd-tools cpsd >/dev/null 2>&1
    fi
    rm -f "$marker"
    if [[ $status -ne 0 ]]; then
        echo "test-packages: logs kept in $work" >&2
    else
        rm -rf "$work"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- 1. Build ------------------------------------------------------------------------------------------
if [[ $build -eq 1 ]]; then
    step "make packages (scripts/build-packages.sh)"
    scripts/build-packages.sh
fi
deb=$out/cpsd_${version}_amd64.deb
tools_deb=$out/cpsd-tools_${version}_amd64.deb
rpm_file=$out/cpsd-${version}-1.x86_64.rpm
tools_rpm=$out/cpsd-tools-${version}-1.x86_64.rpm
for file in "$deb" "$tools_deb" "$rpm_file" "$tools_rpm"; do [[ -f "$file" ]] || die "$file was not built"; done

# --- 2. The .rpm: files, dependencies, scriptlets (it cannot be installed on this Debian machine) ----
step "the .rpm: rpm -qpl, --requires, --scripts"
rpm -qpl "$rpm_file" > "$work/rpm-files"
rpm -qpl "$tools_rpm" > "$work/rpm-tools-files"
for file in /usr/bin/cpsd /usr/bin/cpsctl /usr/lib64/cpsd/libcps3_pkcs11_lux.so /usr/lib/systemd/user/cpsd.socket \
    /usr/lib/systemd/user/cpsd.service /usr/lib/systemd/user/cpsd-first-login.service \
    /usr/lib/systemd/user/sockets.target.wants/cpsd.socket /usr/libexec/cpsd/cpsd-first-login \
    /usr/libexec/cpsd/cpsd-maint /usr/share/p11-kit/modules/cpsd.module /usr/share/cpsd/trust/production/README.md \
    /usr/share/man/man8/cpsd.8.gz /usr/share/man/man1/cpsctl.1.gz /usr/share/man/man5/cpsd.conf.5.gz \
    /usr/share/bash-completion/completions/cpsctl /usr/share/zsh/site-functions/_cpsctl \
    /usr/share/cpsd/chromium/cpsd.crx /usr/share/cpsd/firefox/policies.json \
    "/usr/share/cpsd/firefox/cpsd-bridge@cpsd.invalid.xpi" /etc/xdg/autostart/cpsd-first-login.desktop; do
    grep -qxF "$file" "$work/rpm-files" || die "the .rpm lacks $file"
done
for file in /usr/bin/cps-vcard /usr/bin/cps-demo-rp; do
    grep -qxF "$file" "$work/rpm-files" && die "$file must be in cpsd-tools only"
    grep -qxF "$file" "$work/rpm-tools-files" || die "cpsd-tools.rpm lacks $file"
done
grep -q '^/usr/share/chromium/extensions/[a-p]\{32\}\.json$' "$work/rpm-files" || die "the .rpm lacks the external-extension file"
ok "$(wc -l < "$work/rpm-files") files in cpsd.rpm, $(wc -l < "$work/rpm-tools-files") in cpsd-tools.rpm"
rpm -qp --requires "$rpm_file" > "$work/rpm-requires"
for dependency in 'libpcsclite.so.1()(64bit)' 'libp11-kit.so.0()(64bit)' 'libc.so.6()(64bit)' 'libcrypto.so.3()(64bit)' \
    pcsc-lite p11-kit p11-kit-server nss-tools pinentry; do
    grep -qxF "$dependency" "$work/rpm-requires" || die "the .rpm does not require $dependency"
done
grep -i swift "$work/rpm-requires" && die "the .rpm requires a Swift runtime library (it must be linked statically)"
ok "requires: $(grep -v '^rpmlib\|^/bin/sh\|(GLIBC\|(GLIBCXX\|(CXXABI\|(GCC\|(OPENSSL\|(LIBP11' "$work/rpm-requires" | sort -u | tr '\n' ' ')"
glibc_max=$(grep -o 'GLIBC_[0-9.]*' "$work/rpm-requires" | sort -V | tail -1)
echo "   note: highest glibc symbol version required: $glibc_max (RHEL 9 has glibc 2.34; Packaging/README.md)"
rpm -qp --scripts "$rpm_file" > "$work/rpm-scripts"
grep -q 'postinstall scriptlet' "$work/rpm-scripts" && grep -q 'cpsd-maint configure' "$work/rpm-scripts" \
    || die "the .rpm's %post does not run cpsd-maint configure"
grep -q 'preuninstall scriptlet' "$work/rpm-scripts" && grep -q 'cpsd-maint remove' "$work/rpm-scripts" \
    || die "the .rpm's %preun does not run cpsd-maint remove"
grep -q '"$1" -eq 0' "$work/rpm-scripts" || die "the .rpm's %preun must act on erase only, not on upgrade"
grep -q 'rm -rf /var/lib/cpsd' "$work/rpm-scripts" || die "the .rpm's %postun does not remove /var/lib/cpsd"
ok "scriptlets: %post configure, %preun remove (erase only), %postun state removal"

step "lintian (the .debs) and rpmlint (the .rpms): no error"
# lintian refuses nothing as root but says it is not recommended: its own note, filtered.
lintian --fail-on error --tag-display-limit 0 "$deb" "$tools_deb" > "$work/lintian.log" 2>&1 \
    || { cat "$work/lintian.log"; die "lintian reports errors"; }
grep -v 'running with root privileges' "$work/lintian.log" | sed 's/^/   /' || true
ok "lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors, $(grep -c '^W:' "$work/lintian.log" || true) warnings"
rpmlint -c Packaging/rpm/rpmlint.toml "$rpm_file" "$tools_rpm" > "$work/rpmlint.log" 2>&1 \
    || { cat "$work/rpmlint.log"; die "rpmlint reports errors"; }
grep -E ': [EW]: ' "$work/rpmlint.log" | sed 's/^/   /' || true
ok "rpmlint: $(grep -c ': E: ' "$work/rpmlint.log" || true) errors, $(grep -c ': W: ' "$work/rpmlint.log" || true) warnings"

# --- 3. The system before -------------------------------------------------------------------------------
# Volatile paths: package manager and apt databases that change on any install, caches, byte code.
volatile='^/var/lib/(apt|dpkg/(status|available|lock|triggers|updates|[a-z]+-old)|systemd|ucf/cache|man-db)|/__pycache__(/|\|)|^/etc/ld\.so\.cache\||^/var/lib/dpkg/[a-z-]+-old\|'
snapshot() {
    find /usr /etc /opt /var/lib -xdev -printf '%p|%y|%m|%u|%g|%l\n' 2>/dev/null | grep -Ev "$volatile" | LC_ALL=C sort > "$1"
}
# The throwaway user first: useradd/userdel change /etc/passwd's contents, not the list of files.
echo "$$ $user $work" > "$marker"
useradd -m -s /bin/bash "$user"
user_made=1
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
step "file list of the system before the install (/usr /etc /opt /var/lib)"
snapshot "$work/files-before"
ok "$(wc -l < "$work/files-before") entries"
[[ -e /etc/firefox/policies/policies.json ]] && had_policy=1 || had_policy=0

# --- 4. Install -----------------------------------------------------------------------------------------
step "apt-get install ./cpsd_${version}_amd64.deb ./cpsd-tools_${version}_amd64.deb"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" "$tools_deb" > "$work/apt-install.log" 2>&1 \
    || { tail -30 "$work/apt-install.log"; die "apt-get install failed"; }
grep -E '^(cpsd|Setting up|The following NEW)' "$work/apt-install.log" | sed 's/^/   /'
extra=$(sed -n '/The following NEW packages will be installed:/,/^[0-9]* upgraded/p' "$work/apt-install.log" \
    | grep -v 'NEW packages\|upgraded' | tr ' ' '\n' | grep -v '^$' | grep -vx 'cpsd\|cpsd-tools' || true)
[[ -z "$extra" ]] || die "apt-get installed other packages too ($extra): run make deps first, the file lists would differ"
[[ "$(dpkg-query -W -f='${Version}' cpsd)" == "$version" ]] || die "cpsd $version is not installed"
ldd /usr/bin/cpsd | grep -i swift && die "/usr/bin/cpsd needs a Swift shared library"
ok "installed; /usr/bin/cpsd links only $(ldd /usr/bin/cpsd | awk '/=>/{print $1}' | tr '\n' ' ')"
link=/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so
[[ "$(readlink -f "$link")" == /usr/lib/x86_64-linux-gnu/cpsd/libcps3_pkcs11_lux.so ]] \
    || die "$link does not lead to cpsd's module through the alternatives"
update-alternatives --query libcps3_pkcs11_lux.so > /dev/null || die "no libcps3_pkcs11_lux.so alternative"
ok "$link -> $(readlink "$link") -> $(readlink -f "$link")"
if [[ $had_policy -eq 0 ]]; then
    cmp -s /etc/firefox/policies/policies.json /usr/share/cpsd/firefox/policies.json || die "the Firefox policy is not installed"
    grep -q "\"CPS (cpsd)\": \"$client\"" /etc/firefox/policies/policies.json || die "the policy does not name $client"
    ok "Firefox policy: SecurityDevices \"CPS (cpsd)\" and the extension, /etc/firefox/policies/policies.json"
fi
for file in /usr/lib/systemd/user/sockets.target.wants/cpsd.socket /usr/lib/systemd/user/default.target.wants/cpsd-first-login.service; do
    [[ -e "$file" ]] || die "$file is missing: the units are not enabled for every user"
done
ext_id=$(cat /usr/share/cpsd/chromium/extension-id)
crx=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["external_crx"])' "/usr/share/chromium/extensions/$ext_id.json")
[[ -f "$crx" ]] || die "the external-extension file names $crx, which is missing"
ok "units enabled globally; Chromium external extension $ext_id -> $crx"
man -w cpsd cpsctl cpsd.conf > /dev/null || die "a man page is missing"
{ dpkg -L cpsd cpsd-tools; find /var/lib/cpsd /opt/santesocial /etc/firefox 2>/dev/null; } | sort -u \
    | while read -r path; do [[ -L "$path" || ! -e "$path" ]] || stat -c '%A %n' "$path"; done \
    | awk 'substr($1, 9, 1) == "w"' > "$work/world-writable"
[[ ! -s "$work/world-writable" ]] && ok "no world-writable path among the package's files and what its scripts made" \
    || die "world-writable: $(cat "$work/world-writable")"
cp -a /var/lib/cpsd "$work/var-lib-cpsd-1"
/usr/libexec/cpsd/cpsd-maint configure > "$work/configure-again.log"
[[ ! -s "$work/configure-again.log" ]] || die "configuring again printed: $(cat "$work/configure-again.log")"
diff -r "$work/var-lib-cpsd-1" /var/lib/cpsd > /dev/null || die "configuring again changed /var/lib/cpsd"
ok "maintainer script idempotent (configure run again: no output, no change)"

# --- 5. A new user with an empty home ----------------------------------------------------------------
step "virtual card stack (cps-vcard stack, installed by cpsd-tools) and a session for user $user"
rt=$work/run-user
install -d -m 0700 -o "$user" -g "$user" "$rt" "$rt/p11-kit"
coproc STACK { exec setpriv --pdeathsig TERM -- /usr/bin/cps-vcard stack --dir "$work/stack" --readers 1 2>"$work/stack.err"; }
stack_pid=$STACK_PID
while IFS= read -r -t 30 line <&"${STACK[0]}"; do
    [[ "$line" == ready ]] && break
    [[ "$line" == export\ * ]] && eval "$line"
done
[[ -n "${PCSCLITE_CSOCK_NAME:-}" ]] || { cat "$work/stack.err"; die "the virtual stack did not start"; }
chmod 755 "$work/stack" "$work/stack/run"
ok "pcscd at $PCSCLITE_CSOCK_NAME with one virtual CPS3 card"
session_env=(env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/bin:/bin LANG=C.UTF-8
    XDG_RUNTIME_DIR="$rt" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME")
as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups -- "${session_env[@]}" "$@"; }
# Only in the background (`as_user_bg … &`): it execs, so $! is the program's own pid; the program gets
# SIGTERM if this script dies.
as_user_bg() { exec setpriv --reuid="$uid" --regid="$gid" --init-groups --pdeathsig TERM -- "${session_env[@]}" "$@"; }
[[ -z "$(ls -A "$home" | grep -v '^\.\(bashrc\|profile\|bash_logout\)$')" ]] || die "$home is not empty"
if ss -ltn | grep -q ':36443 '; then
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_user sh -c "mkdir -p ~/.config/cpsd && echo 'bridge-port = $port' > ~/.config/cpsd/cpsd.conf"
    echo "   note: port 36443 is taken on this machine: the user's cpsd.conf sets bridge-port = $port"
fi

step "first-login registration (what the cpsd-first-login user unit / XDG autostart entry runs)"
unit_exec=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/user/cpsd-first-login.service)
grep -q "^Exec=$unit_exec$" /etc/xdg/autostart/cpsd-first-login.desktop || die "the autostart entry runs something else than the unit"
as_user "$unit_exec" > "$work/first-login.log" 2>&1 || { cat "$work/first-login.log"; die "first-login registration failed"; }
sed 's/^/   /' "$work/first-login.log"
[[ -f "$home/.local/state/cpsd/first-login.done" ]] || die "no first-login stamp"
as_user "$unit_exec" > "$work/first-login-2.log" 2>&1
[[ ! -s "$work/first-login-2.log" ]] || die "the second run did something: $(cat "$work/first-login-2.log")"
as_user /usr/bin/modutil -dbdir "sql:$home/.pki/nssdb" -list > "$work/modutil.log" 2>&1
grep -q 'CPS (cpsd)' "$work/modutil.log" && grep -q "$client" "$work/modutil.log" \
    || { cat "$work/modutil.log"; die "the module is not in Chromium's NSS database"; }
ok "\"CPS (cpsd)\" ($client) in $home/.pki/nssdb; the second run did nothing (stamp)"

step "cpsd socket-activated: systemd-socket-activate -l \$XDG_RUNTIME_DIR/p11-kit/pkcs11 /usr/bin/cpsd"
grep -qx 'ListenStream=%t/p11-kit/pkcs11' /usr/lib/systemd/user/cpsd.socket || die "cpsd.socket listens elsewhere"
socket=$rt/p11-kit/pkcs11
as_user_bg systemd-socket-activate -l "$socket" -E XDG_RUNTIME_DIR -E PCSCLITE_CSOCK_NAME /usr/bin/cpsd > "$work/cpsd.log" 2>&1 &
cpsd_pid=$!
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.05; done
[[ -S "$socket" ]] || die "systemd-socket-activate did not make $socket"
sleep 0.3
pgrep -u "$user" -x cpsd > /dev/null && die "cpsd runs before any client connected"
ok "listening, no cpsd yet (pid $cpsd_pid is systemd-socket-activate)"
cat > "$work/p11.py" <<'EOF'
"""Cold start to the first answered C_GetSlotList, RSS, and signature loops, through p11-kit-client.so."""
import os, sys, time, PyKCS11
CLIENT = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"
SIG_ID = bytes.fromhex("e828bd080f8025000001ff001001")
what = sys.argv[1]
start = time.monotonic()
lib = PyKCS11.PyKCS11Lib()
lib.load(CLIENT)
slots = lib.getSlotList(tokenPresent=True)
elapsed = time.monotonic() - start
if what == "cold":
    token = lib.getTokenInfo(slots[0]).label.strip() if slots else "-"
    print(f"{elapsed * 1000:.0f} {len(slots)} {token}")
    sys.exit(0 if slots else 1)
# loop MIN STOPFILE: sign until at least MIN signatures are made and STOPFILE exists.
minimum, stop_file = int(sys.argv[2]), sys.argv[3]
session = lib.openSession(slots[0])
session.login("1234")
key = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_ID, SIG_ID)])[0]
failures = 0
count = 0
begin = time.monotonic()
while count < minimum or not os.path.exists(stop_file):
    try:
        session.sign(key, f"document {count}".encode(), PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None))
    except PyKCS11.PyKCS11Error as error:
        failures += 1
        print(f"signature {count}: {error}", file=sys.stderr)
    count += 1
session.logout()
print(f"{count - failures} {failures} {(time.monotonic() - begin) / count * 1000:.1f}")
sys.exit(1 if failures else 0)
EOF
chmod 644 "$work/p11.py"
cold=$(as_user /usr/bin/python3 "$work/p11.py" cold) || { cat "$work/cpsd.log"; die "no slot through p11-kit-client.so"; }
read -r cold_ms cold_slots cold_token <<< "$cold"
pgrep -u "$user" -x cpsd > /dev/null || die "cpsd is not running after the first client"
[[ "$(cat /proc/$cpsd_pid/comm)" == cpsd ]] || die "pid $cpsd_pid is not cpsd (systemd-socket-activate should exec it)"
ok "first C_GetSlotList answered $cold_ms ms after the first connection (cold start of cpsd): $cold_slots slot, token $cold_token"

step "pkcs11-tool through the stock p11-kit client: list, sign (PIN 1234), verify with OpenSSL"
as_user pkcs11-tool --module "$client" --list-token-slots > "$work/slots.log" 2>&1 || { cat "$work/slots.log"; die "pkcs11-tool -L failed"; }
grep -q 'token label *: CPS3v3-' "$work/slots.log" || { cat "$work/slots.log"; die "no CPS3 token through p11-kit-client.so"; }
printf 'Ordonnance de test\n' > "$work/doc.txt"; chmod 644 "$work/doc.txt"
install -d -m 0700 -o "$user" -g "$user" "$work/user-out"
as_user pkcs11-tool --module "$client" --login --pin 1234 --sign --mechanism SHA256-RSA-PKCS \
    --id e828bd080f8025000001ff001001 --input-file "$work/doc.txt" --output-file "$work/user-out/doc.sig" > "$work/sign.log" 2>&1 \
    || { cat "$work/sign.log"; die "pkcs11-tool could not sign"; }
as_user pkcs11-tool --module "$client" --read-object --type cert --id e828bd080f8025000001ff001001 \
    --output-file "$work/user-out/sig.der" > /dev/null 2>&1 || die "cannot read the signature certificate"
openssl x509 -inform DER -in "$work/user-out/sig.der" -pubkey -noout > "$work/sig.pub"
openssl dgst -sha256 -verify "$work/sig.pub" -signature "$work/user-out/doc.sig" "$work/doc.txt" > /dev/null \
    || die "the signature does not verify"
grep -q 'audit=signature' "$work/cpsd.log" || die "cpsd logged no audit line for the signature"
ok "signed with the card's signature key; OpenSSL verifies it; cpsd's audit line: $(grep -o 'audit=signature.*' "$work/cpsd.log" | tail -1 | cut -c1-100)"
sleep 2
rss_idle=$(awk '/^VmRSS/{print $2}' "/proc/$cpsd_pid/status")
ok "RSS of the release cpsd, idle after those clients: $((rss_idle / 1024)) MB ($rss_idle kB)"

step "Chromium (headless) with the user's profile: the token through NSS, the extension from the package"
# A page that asks for a client certificate (cps-demo-rp's TLS client authentication port, from
# cpsd-tools) makes Chromium list the certificates of its NSS database's modules: it loads
# p11-kit-client.so, which connects to cpsd. Nobody picks a certificate: no PIN is asked.
as_user_bg cps-demo-rp --port 0 --tls-client-port 0 --state-dir "$work/user-out/rp" \
    --page-library /usr/share/cpsd/webextension/page/cps-bridge.js > "$work/rp.log" 2>&1 &
rp_pid=$!
for _ in $(seq 100); do grep -q '^cps-demo-rp: ready' "$work/rp.log" && break; sleep 0.1; done
tls_url=$(sed -n 's|.*TLS client authentication: \(https://localhost:[0-9]*/\).*|\1|p' "$work/rp.log")
[[ -n "$tls_url" ]] || { cat "$work/rp.log"; die "cps-demo-rp did not start"; }
as_user_bg chromium --headless=new --no-sandbox --disable-gpu --no-first-run --no-default-browser-check \
    --user-data-dir="$home/.config/chromium" --ignore-certificate-errors "$tls_url" > "$work/chromium.log" 2>&1 &
chromium_pid=$!
prefs="$home/.config/chromium/Default"
for _ in $(seq 80); do
    grep -qs "\"$ext_id\"" "$prefs/Preferences" "$prefs/Secure Preferences" \
        && grep -q 'connected:.*(/usr/lib/chromium/chromium)' "$work/cpsd.log" && break
    sleep 0.5
done
sleep 2
for pid in $chromium_pid $rp_pid; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
chromium_pid=""
rp_pid=""
grep -qs "\"$ext_id\"" "$prefs/Preferences" "$prefs/Secure Preferences" \
    || { tail -20 "$work/chromium.log"; die "the extension $ext_id is not in Chromium's profile"; }
[[ -d "$prefs/Extensions/$ext_id" ]] || die "Chromium did not unpack the extension into $prefs/Extensions/$ext_id"
ok "extension $ext_id installed in $prefs (from /usr/share/chromium/extensions/$ext_id.json)"
grep -q 'connected:.*(/usr/lib/chromium/chromium)' "$work/cpsd.log" \
    || { tail -20 "$work/chromium.log"; die "Chromium did not reach cpsd through the module of its NSS database"; }
ok "asked for a client certificate by $tls_url, Chromium's NSS loaded \"CPS (cpsd)\" and connected to cpsd: $(grep -o 'client#[0-9]* connected:.*chromium)' "$work/cpsd.log" | head -1)"
as_user certutil -L -h all -d "sql:$home/.pki/nssdb" > "$work/certutil.log" 2>&1 || true
grep -q "CPS3v3-.*:Certificat d'Authentification CPS" "$work/certutil.log" \
    || { cat "$work/certutil.log"; die "Chromium's NSS database does not list the card's certificate"; }
ok "Chromium's NSS database lists: $(grep -o "CPS3v3-[^ ]*:Certificat[^ ]* [^ ]*" "$work/certutil.log" | head -2 | tr '\n' ';')"

if [[ $had_policy -eq 0 ]] && command -v firefox-esr > /dev/null; then
    step "Firefox ESR (headless, a new profile): the package's policy loads the module"
    as_user mkdir -p "$work/user-out/firefox"
    as_user timeout 60 firefox-esr --headless --no-remote --profile "$work/user-out/firefox" \
        --screenshot "$work/user-out/firefox.png" about:blank > "$work/firefox.log" 2>&1 || true
    grep -q 'CPS (cpsd)' "$work/user-out/firefox/pkcs11.txt" 2>/dev/null \
        || { tail -20 "$work/firefox.log"; die "Firefox did not add the module from /etc/firefox/policies/policies.json"; }
    grep -q 'connected:.*(/usr/lib/firefox-esr/firefox-esr)' "$work/cpsd.log" \
        || die "Firefox did not reach cpsd through the module its policy added"
    ok "SecurityDevices policy: \"CPS (cpsd)\" in the new profile's pkcs11.txt, Firefox connected to cpsd"
fi

step "cpsctl diag (as the user, cpsd running)"
# This machine has OpenSC installed (the test suite's dependency), whose p11-kit module drives the same
# readers: the user does what diag advises for that (an empty override in ~/.config/pkcs11/modules).
if [[ -f /usr/share/p11-kit/modules/opensc-pkcs11.module ]]; then
    as_user sh -c 'mkdir -p ~/.config/pkcs11/modules && echo "module:" > ~/.config/pkcs11/modules/opensc-pkcs11.module'
    echo "   note: OpenSC's p11-kit module is installed here: masked for this user, as cpsctl diag advises"
fi
as_user cpsctl diag > "$work/diag.log" 2>&1 && diag_status=0 || diag_status=$?
sed 's/^/   /' "$work/diag.log"
grep -q '✔ p11kit.module: registered once' "$work/diag.log" || die "cpsctl diag does not see cpsd's p11-kit module"
grep -q '✔ browsers.module' "$work/diag.log" || die "cpsctl diag does not see the module in the browsers"
grep -q '✔ bridge.extension' "$work/diag.log" || die "cpsctl diag does not see the extension in Chromium"
# As the user (not root): cpsd is not dumpable, so diag must recognise its bridge without /proc/<cpsd>/fd.
[[ $diag_status -eq 0 ]] || die "cpsctl diag exit status $diag_status (0 = all ok): $(grep -E '^[⚠✘] ' "$work/diag.log" || true)"
ok "cpsctl diag: all ok"
grep -q "✔ middleware.cryptolib: cpsd's Cryptolib-compatible module" "$work/diag.log" \
    || die "cpsctl diag does not see cpsd's module at Cryptolib's path"

# --- 6. Upgrade under a running signature loop --------------------------------------------------------
step "upgrade to $next_version while cpsd signs (a signature loop: during the upgrade, and at least 1,000)"
CPSD_PKG_XZ_LEVEL=1 scripts/build-packages.sh --skip-swift --deb-only --version "$next_version" --out "$work/next" > "$work/build-next.log" 2>&1 \
    || { tail -20 "$work/build-next.log"; die "the $next_version packages could not be built"; }
stop_file=$work/stop-signing
as_user /usr/bin/python3 "$work/p11.py" loop 1000 "$stop_file" > "$work/loop.out" 2> "$work/loop.err" &
loop_pid=$!
sleep 2
kill -0 "$loop_pid" 2>/dev/null || { cat "$work/loop.err"; die "the signature loop ended early"; }
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "$work/next/cpsd_${next_version}_amd64.deb" "$work/next/cpsd-tools_${next_version}_amd64.deb" > "$work/apt-upgrade.log" 2>&1 \
    || { tail -30 "$work/apt-upgrade.log"; die "the upgrade failed"; }
[[ "$(dpkg-query -W -f='${Version}' cpsd)" == "$next_version" ]] || die "cpsd $next_version is not installed"
kill -0 "$cpsd_pid" 2>/dev/null || die "the upgrade stopped the running cpsd"
ok "upgraded to $next_version during the loop; the running cpsd (pid $cpsd_pid) was left alone"
touch "$stop_file"
wait "$loop_pid" && loop_status=0 || loop_status=$?
loop_pid=""
read -r signed failed per_signature < "$work/loop.out" || true
[[ $loop_status -eq 0 && "${failed:-1}" -eq 0 ]] || { cat "$work/loop.err"; die "signatures failed during the upgrade"; }
rss_after=$(awk '/^VmRSS/{print $2}' "/proc/$cpsd_pid/status")
ok "$signed signatures during the upgrade, 0 failed ($per_signature ms each); cpsd RSS after them: $((rss_after / 1024)) MB ($rss_after kB)"
[[ "$(readlink -f "$link")" == /usr/lib/x86_64-linux-gnu/cpsd/libcps3_pkcs11_lux.so ]] || die "the alternative is gone after the upgrade"
ok "alternative and policy still in place after the upgrade"

# --- 7. Remove, purge, compare ----------------------------------------------------------------------
step "remove, then purge"
kill -TERM "$cpsd_pid"; wait "$cpsd_pid" 2>/dev/null || true; cpsd_pid=""
{ echo quit >&"${STACK[1]}"; } 2>/dev/null || true
wait "$stack_pid" 2>/dev/null || true; stack_pid=""
DEBIAN_FRONTEND=noninteractive apt-get remove -y cpsd-tools cpsd > "$work/apt-remove.log" 2>&1 || { tail -20 "$work/apt-remove.log"; die "remove failed"; }
[[ ! -e "$link" && ! -L "$link" ]] || die "$link is still there after remove"
[[ $had_policy -eq 1 || ! -e /etc/firefox/policies/policies.json ]] || die "the Firefox policy is still there after remove"
[[ ! -e /usr/lib/systemd/user/cpsd.socket ]] || die "the units are still there after remove"
ok "removed: units, module alternative, /opt/santesocial (made by cpsd), Firefox policy gone"
DEBIAN_FRONTEND=noninteractive apt-get purge -y cpsd-tools cpsd > "$work/apt-purge.log" 2>&1 || { tail -20 "$work/apt-purge.log"; die "purge failed"; }
installed=0
[[ ! -e /var/lib/cpsd ]] || die "/var/lib/cpsd is still there after purge"
dpkg-query -W -f='${Status}' cpsd 2>/dev/null | grep -q 'install\|config-files' && die "cpsd is still known to dpkg"
step "file list after purge compared with the one before the install"
snapshot "$work/files-after"
if ! diff "$work/files-before" "$work/files-after" > "$work/files.diff"; then
    cat "$work/files.diff"
    die "the system's file list differs after purge"
fi
ok "identical ($(wc -l < "$work/files-after") entries; volatile paths ignored: $volatile)"

# --- 8. With Cryptolib installed ---------------------------------------------------------------------
step "with Cryptolib installed: a stand-in package owning $link"
fake=$work/fake-cryptolib
mkdir -p "$fake/DEBIAN" "$fake/opt/santesocial/CPS/lib"
printf 'not a real library: a stand-in for Cryptolib CPS in cpsd package test\n' > "$fake/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so"
printf 'Package: cpsd-test-cryptolib-standin\nVersion: 5.2.2\nArchitecture: all\nMaintainer: cpsd test <cpsd@localhost>\nDescription: stand-in for CryptolibCPS (cpsd package test)\n' > "$fake/DEBIAN/control"
dpkg-deb --root-owner-group --build "$fake" "$work/fake-cryptolib.deb" > /dev/null
dpkg -i "$work/fake-cryptolib.deb" > /dev/null
sum_before=$(sha256sum "$link" | cut -d' ' -f1)
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" > "$work/apt-cryptolib.log" 2>&1 \
    || { tail -30 "$work/apt-cryptolib.log"; dpkg --purge cpsd-test-cryptolib-standin; die "install next to Cryptolib failed"; }
grep -q 'WARNING: Cryptolib CPS is installed' "$work/apt-cryptolib.log" || { dpkg --purge cpsd-test-cryptolib-standin; die "no warning about Cryptolib"; }
# The installer's diagnostic says it too.
as_user cpsctl diag > "$work/diag-cryptolib.log" 2>&1 || true
grep -q '⚠ middleware.cryptolib: Cryptolib CPS is installed' "$work/diag-cryptolib.log" \
    || { dpkg --purge cpsd-test-cryptolib-standin; die "cpsctl diag does not warn about Cryptolib: $(grep cryptolib "$work/diag-cryptolib.log")"; }
grep 'cpsd:' "$work/apt-cryptolib.log" | sed 's/^/   /'
/usr/libexec/cpsd/cpsd-maint configure > "$work/cryptolib-again.log"
[[ ! -s "$work/cryptolib-again.log" ]] || { dpkg --purge cpsd-test-cryptolib-standin; die "the Cryptolib warning came twice"; }
[[ -f "$link" && ! -L "$link" && "$(sha256sum "$link" | cut -d' ' -f1)" == "$sum_before" ]] \
    || { dpkg --purge cpsd-test-cryptolib-standin; die "Cryptolib's file was touched"; }
update-alternatives --query libcps3_pkcs11_lux.so > /dev/null 2>&1 && { dpkg --purge cpsd-test-cryptolib-standin; die "an alternative was made next to Cryptolib"; }
DEBIAN_FRONTEND=noninteractive apt-get purge -y cpsd > /dev/null 2>&1
installed=0
[[ "$(sha256sum "$link" | cut -d' ' -f1)" == "$sum_before" ]] || die "Cryptolib's file changed after cpsd's purge"
dpkg --purge cpsd-test-cryptolib-standin > /dev/null 2>&1
ok "warned once, Cryptolib's file untouched (install, configure again, purge), no alternative made"

step "figures"
echo "   packages: $(cd "$out" && for f in "cpsd_${version}_amd64.deb" "cpsd-tools_${version}_amd64.deb" "cpsd-${version}-1.x86_64.rpm" "cpsd-tools-${version}-1.x86_64.rpm"; do printf '%s %s MB; ' "$f" "$(( $(stat -c %s "$f") / 1048576 ))"; done)"
echo "   installed size: cpsd $(dpkg-deb -f "$deb" Installed-Size) kB, cpsd-tools $(dpkg-deb -f "$tools_deb" Installed-Size) kB"
echo "   cold start (socket activation to the first answered C_GetSlotList): $cold_ms ms"
echo "   cpsd RSS: idle $((rss_idle / 1024)) MB, after $signed signatures (at least 1,000) $((rss_after / 1024)) MB (goal < 30 MB)"
echo "   signature through p11-kit-client.so (virtual card): $per_signature ms"
echo
echo "test-packages: all ok"
