#!/usr/bin/env bash
# `make packages`: cpsd_<version>_amd64.deb, cpsd-tools_<version>_amd64.deb and the .rpm pair
# (cpsd-<version>-1.x86_64.rpm, cpsd-tools-…) in out/packages/, from the release build with the Swift
# standard library and Foundation linked statically. Packaging/README.md says what is in them and why.
#
#   scripts/build-packages.sh [--version V] [--skip-swift] [--out DIR]
#
# --version V   package version (default: Sources/SmartCardCore/Release.swift's); the package test
#               rebuilds the packages with a higher one to test the upgrade, without rebuilding Swift.
# --skip-swift  reuse the binaries already in .build-packages (fails if they are missing).
# --deb-only    only the .debs (the package test's upgrade build).
# CPSD_PKG_XZ_LEVEL=N  xz level of both formats (default 6; the upgrade build of the test uses 1).
# CPSD_CRX_KEY=file.pem  the project's private key for the Chromium extension (matching
#               Packaging/webextension/manifest-key.txt); without it a key is made once in
#               .build-packages/packaging/ and the extension gets another id (Packaging/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH=/opt/swift/usr/bin:$PATH

die() { echo "build-packages: $*" >&2; exit 1; }

version=""
skip_swift=0
deb_only=0
xz_level=${CPSD_PKG_XZ_LEVEL:-6}
out=$root/out/packages
while [[ $# -gt 0 ]]; do
    case "$1" in
        --version) version=$2; shift 2 ;;
        --skip-swift) skip_swift=1; shift ;;
        --deb-only) deb_only=1; shift ;;
        --out) out=$2; shift 2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done
if [[ -z "$version" ]]; then
    version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/SmartCardCore/Release.swift)
    [[ -n "$version" ]] || die "cannot read the version from Sources/SmartCardCore/Release.swift"
fi
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "version '$version' is not usable in both a .deb and an .rpm"

for tool in dpkg-deb dpkg-shlibdeps rpmbuild python3 openssl cc strip gzip; do
    command -v "$tool" >/dev/null || die "$tool is missing (make deps installs the build dependencies)"
done

scratch=$root/.build-packages
bin=$scratch/release
work=$scratch/packaging
maintainer=${CPSD_MAINTAINER:-"cpsd maintainers <cpsd-maintainers@users.noreply.github.com>"}
homepage=${CPSD_HOMEPAGE:-"https://github.com/cpsd-project/cpsd"}
products=(cpsd cpsctl cps-vcard cps-demo-rp)

# --- 1. The programs: release, static Swift runtime, in a scratch path of their own ------------------
# Linked in so the programs also run on glibc 2.34 / GCC 11 systems (RHEL 9): scripts/packaging/glibc-compat.c.
compat=$scratch/compat/glibc-compat.o
cv_wait=_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE
link_flags=(-Xlinker "$compat" -Xlinker --wrap=hypot -Xlinker --wrap=hypotf -Xlinker "--wrap=$cv_wait")
if [[ $skip_swift -eq 0 ]]; then
    mkdir -p "$(dirname "$compat")"
    if [[ ! -f "$compat" || scripts/packaging/glibc-compat.c -nt "$compat" ]]; then
        cc -O2 -fPIC -Wall -c scripts/packaging/glibc-compat.c -o "$compat"
    fi
    for product in "${products[@]}"; do
        echo "== swift build -c release --static-swift-stdlib --product $product (.build-packages)"
        mkdir -p "$scratch"
        if ! swift build -c release --static-swift-stdlib --disable-local-rpath --scratch-path "$scratch" --product "$product" "${link_flags[@]}" \
            > "$scratch/build-$product.log" 2>&1; then
            grep -E "error:" "$scratch/build-$product.log" | head -30 >&2 || tail -30 "$scratch/build-$product.log" >&2
            die "swift build of $product failed (log: $scratch/build-$product.log)"
        fi
        tail -1 "$scratch/build-$product.log" | sed 's/^/   /'
    done
fi
for product in "${products[@]}"; do
    [[ -x "$bin/$product" ]] || die "$bin/$product is missing: run without --skip-swift"
    # The RHEL 9 family has glibc 2.34 and GLIBCXX_3.4.29: nothing newer may be required.
    too_new=$(objdump -T "$bin/$product" | grep -oE 'GLIBC_2\.(3[5-9]|[4-9][0-9])|GLIBCXX_3\.4\.(3[0-9])' | sort -u | tr '\n' ' ' || true)
    [[ -z "$too_new" ]] || die "$product needs $too_new (newer than RHEL 9 has): see scripts/packaging/glibc-compat.c"
done
echo "== the Cryptolib-compatible PKCS#11 module"
./scripts/build-pkcs11-module.sh "$scratch/pkcs11-module/libcps3_pkcs11_lux.so" >/dev/null

rm -rf "$work/stage" "$work/gen"
mkdir -p "$work/stage" "$work/gen" "$out"
gen=$work/gen

# --- 2. Generated files: man pages, completions, the packed extension ------------------------------
echo "== man pages and shell completions"
date_epoch=$(stat -c %Y Sources/SmartCardCore/Release.swift)
export SOURCE_DATE_EPOCH=$date_epoch
"$bin/cpsd" --experimental-dump-help > "$gen/cpsd.json"
"$bin/cpsctl" --experimental-dump-help > "$gen/cpsctl.json"
"$bin/cps-vcard" --experimental-dump-help > "$gen/cps-vcard.json"
"$bin/cps-demo-rp" --experimental-dump-help > "$gen/cps-demo-rp.json"
cat > "$gen/cpsd-extra.roff" <<'EOF'
.SH FILES
.TP
\fI$XDG_RUNTIME_DIR/p11\-kit/pkcs11\fR
The PKCS#11 socket (p11\-kit's default client address), made by the cpsd.socket user unit.
.TP
\fI/usr/lib/systemd/user/cpsd.socket\fR, \fIcpsd.service\fR
The user units, enabled for every user by the package: nothing runs until a client connects.
.TP
\fI/usr/share/p11\-kit/modules/cpsd.module\fR
Registers p11\-kit\-client.so with p11\-kit's proxy.
.TP
\fI~/.local/state/cpsd/\fR
The bridge's certificate and the paired browsers.
EOF
pkgtool=(python3 scripts/packaging/pkgtool.py)
"${pkgtool[@]}" man --json "$gen/cpsd.json" --section 8 --version "$version" --extra "$gen/cpsd-extra.roff" \
    --see-also 'cpsctl(1)' --see-also 'cpsd.conf(5)' --see-also 'pkcs11-tool(1)' --output "$gen/cpsd.8"
"${pkgtool[@]}" man --json "$gen/cpsctl.json" --section 1 --version "$version" \
    --see-also 'cpsd(8)' --see-also 'cpsd.conf(5)' --output "$gen/cpsctl.1"
"${pkgtool[@]}" man --json "$gen/cps-vcard.json" --section 1 --version "$version" \
    --see-also 'cpsd(8)' --see-also 'pcscd(8)' --output "$gen/cps-vcard.1"
"${pkgtool[@]}" man --json "$gen/cps-demo-rp.json" --section 1 --version "$version" \
    --see-also 'cpsd(8)' --output "$gen/cps-demo-rp.1"
"${pkgtool[@]}" confman --readme README.md --configuration Sources/cpsd/Configuration.swift \
    --version "$version" --output "$gen/cpsd.conf.5"
for tool in cpsd cpsctl; do
    # Sourced by bash-completion, not run: no #! line.
    "$bin/$tool" --generate-completion-script bash | sed '1{/^#!/d}' > "$gen/$tool.bash"
    "$bin/$tool" --generate-completion-script zsh > "$gen/_$tool"
done

echo "== the WebExtension: CRX for Chromium, XPI for Firefox"
project_id=$("${pkgtool[@]}" crxid --manifest-key Packaging/webextension/manifest-key.txt)
if [[ -n "${CPSD_CRX_KEY:-}" ]]; then
    crx_key=$CPSD_CRX_KEY
    [[ -r "$crx_key" ]] || die "CPSD_CRX_KEY=$crx_key is not readable"
    key_id=$("${pkgtool[@]}" crxid --key "$crx_key")
    [[ "$key_id" == "$project_id" ]] || die "CPSD_CRX_KEY gives the extension id $key_id, not the project's $project_id"
else
    crx_key=$scratch/crx-key/cpsd-extension-dev.pem   # outside packaging/: kept across builds, never in git
    if [[ ! -s "$crx_key" ]]; then
        mkdir -p "$(dirname "$crx_key")" && chmod 700 "$(dirname "$crx_key")"
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$crx_key" 2>/dev/null
        chmod 600 "$crx_key"
    fi
fi
drop_key=()
[[ "$("${pkgtool[@]}" crxid --key "$crx_key")" == "$project_id" ]] || drop_key=(--drop-manifest-key)
ext_id=$("${pkgtool[@]}" crx --directory Packaging/webextension --key "$crx_key" "${drop_key[@]}" \
    --output "$gen/cpsd.crx" --zip-output "$gen/cpsd-bridge@cpsd.invalid.xpi")
ext_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' Packaging/webextension/manifest.json)
if [[ "$ext_id" != "$project_id" ]]; then
    echo "   note: no CPSD_CRX_KEY: the Chromium extension is signed with a build key, id $ext_id"
    echo "         (not the project's $project_id); first login adds it to the user's cpsd.conf."
fi

# --- 3. The installed tree, for a distribution flavour: deb or rpm ---------------------------------
# stage FLAVOUR DIR: every file of both packages under DIR.
stage() {
    local flavour=$1 dest=$2 libdir client zshdir
    if [[ $flavour == deb ]]; then
        libdir=/usr/lib/x86_64-linux-gnu; client=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
        zshdir=/usr/share/zsh/vendor-completions
    else
        libdir=/usr/lib64; client=/usr/lib64/pkcs11/p11-kit-client.so
        zshdir=/usr/share/zsh/site-functions
    fi
    local d=$dest
    install -d -m 0755 "$d/usr/bin" "$d/usr/libexec/cpsd" "$d$libdir/cpsd" "$d/usr/lib/systemd/user" \
        "$d/usr/lib/systemd/user/sockets.target.wants" "$d/usr/lib/systemd/user/default.target.wants" \
        "$d/usr/share/p11-kit/modules" "$d/usr/share/man/man1" "$d/usr/share/man/man5" "$d/usr/share/man/man8" \
        "$d/usr/share/bash-completion/completions" "$d$zshdir" "$d/usr/share/cpsd/trust/production" \
        "$d/usr/share/cpsd/trust/test" "$d/usr/share/cpsd/chromium" "$d/usr/share/cpsd/firefox" \
        "$d/usr/share/chromium/extensions" "$d/etc/xdg/autostart" "$d/usr/share/cpsd/webextension"
    for product in "${products[@]}"; do
        install -m 0755 "$bin/$product" "$d/usr/bin/$product"
        strip --strip-unneeded "$d/usr/bin/$product"
    done
    install -m 0644 "$scratch/pkcs11-module/libcps3_pkcs11_lux.so" "$d$libdir/cpsd/libcps3_pkcs11_lux.so"
    strip --strip-unneeded "$d$libdir/cpsd/libcps3_pkcs11_lux.so"
    sed -e "s|@MODULE@|$libdir/cpsd/libcps3_pkcs11_lux.so|" \
        -e "s|@ALTERNATIVES@|$([[ $flavour == deb ]] && echo update-alternatives || echo alternatives)|" \
        Packaging/maint/cpsd-maint.in > "$d/usr/libexec/cpsd/cpsd-maint"
    chmod 0755 "$d/usr/libexec/cpsd/cpsd-maint"
    install -m 0755 Packaging/session/cpsd-first-login "$d/usr/libexec/cpsd/cpsd-first-login"
    install -m 0644 Packaging/systemd/cpsd.socket Packaging/systemd/cpsd.service \
        Packaging/session/cpsd-first-login.service "$d/usr/lib/systemd/user/"
    # Enabled for every user: the links `systemctl --global enable` would make, shipped in the package
    # (so this works without a running systemd, and goes away with the package).
    ln -s ../cpsd.socket "$d/usr/lib/systemd/user/sockets.target.wants/cpsd.socket"
    ln -s ../cpsd-first-login.service "$d/usr/lib/systemd/user/default.target.wants/cpsd-first-login.service"
    install -m 0644 Packaging/autostart/cpsd-first-login.desktop "$d/etc/xdg/autostart/"
    install -m 0644 Packaging/p11-kit/cpsd.module "$d/usr/share/p11-kit/modules/cpsd.module"
    install -m 0644 Packaging/trust/production/README.md "$d/usr/share/cpsd/trust/production/README.md"
    install -m 0644 Packaging/trust/test/*.pem "$d/usr/share/cpsd/trust/test/"
    gzip -9n -c "$gen/cpsd.8" > "$d/usr/share/man/man8/cpsd.8.gz"
    gzip -9n -c "$gen/cpsd.conf.5" > "$d/usr/share/man/man5/cpsd.conf.5.gz"
    for page in cpsctl cps-vcard cps-demo-rp; do gzip -9n -c "$gen/$page.1" > "$d/usr/share/man/man1/$page.1.gz"; done
    for tool in cpsd cpsctl; do
        install -m 0644 "$gen/$tool.bash" "$d/usr/share/bash-completion/completions/$tool"
        install -m 0644 "$gen/_$tool" "$d$zshdir/_$tool"
    done
    install -m 0644 "$gen/cpsd.crx" "$d/usr/share/cpsd/chromium/cpsd.crx"
    echo "$ext_id" > "$d/usr/share/cpsd/chromium/extension-id"
    sed "s|@EXTVERSION@|$ext_version|" Packaging/chromium/external-extension.json.in \
        > "$d/usr/share/chromium/extensions/$ext_id.json"
    install -m 0644 "$gen/cpsd-bridge@cpsd.invalid.xpi" "$d/usr/share/cpsd/firefox/"
    sed "s|@CLIENT@|$client|" Packaging/firefox/policies.json.in > "$d/usr/share/cpsd/firefox/policies.json"
    (cd Packaging/webextension && find . -type f ! -name manifest-key.txt ! -name README.md) | while read -r file; do
        install -D -m 0644 "Packaging/webextension/$file" "$d/usr/share/cpsd/webextension/$file"
    done
    chmod -R go-w "$d"
}

# The tools package's files (the rest is cpsd's).
tools_files=(usr/bin/cps-vcard usr/bin/cps-demo-rp usr/share/man/man1/cps-vcard.1.gz
    usr/share/man/man1/cps-demo-rp.1.gz usr/share/cpsd/trust/test)

# --- 4. The .debs --------------------------------------------------------------------------------
echo "== .deb"
deb_stage=$work/stage/deb
stage deb "$deb_stage/all"
changelog_date=$(date -u -R -d "@$date_epoch")
for package in cpsd cpsd-tools; do
    dir=$deb_stage/$package
    rm -rf "$dir"
    if [[ $package == cpsd ]]; then
        cp -a "$deb_stage/all" "$dir"
        for file in "${tools_files[@]}"; do rm -rf "${dir:?}/$file"; done
    else
        mkdir -p "$dir"
        for file in "${tools_files[@]}"; do
            mkdir -p "$dir/$(dirname "$file")"
            cp -a "$deb_stage/all/$file" "$dir/$file"
        done
    fi
    install -d -m 0755 "$dir/DEBIAN" "$dir/usr/share/doc/$package"
    install -m 0644 Packaging/deb/copyright "$dir/usr/share/doc/$package/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Package built from the cpsd source tree (scripts/build-packages.sh).\n\n -- %s  %s\n' \
        "$package" "$version" "$maintainer" "$changelog_date" | gzip -9n > "$dir/usr/share/doc/$package/changelog.gz"
    if [[ $package == cpsd ]]; then
        install -m 0755 Packaging/deb/postinst Packaging/deb/prerm Packaging/deb/postrm "$dir/DEBIAN/"
        printf '%s\n' /etc/xdg/autostart/cpsd-first-login.desktop > "$dir/DEBIAN/conffiles"
        elves=("$dir/usr/bin/cpsd" "$dir/usr/bin/cpsctl" "$dir/usr/lib/x86_64-linux-gnu/cpsd/libcps3_pkcs11_lux.so")
    else
        elves=("$dir/usr/bin/cps-vcard" "$dir/usr/bin/cps-demo-rp")
    fi
    # dpkg-shlibdeps wants a debian/control to read: a minimal one in a scratch directory.
    shl=$work/shlibdeps-$package
    rm -rf "$shl" && mkdir -p "$shl/debian"
    printf 'Source: cpsd\n\nPackage: %s\nArchitecture: amd64\n' "$package" > "$shl/debian/control"
    shlibs=$(cd "$shl" && dpkg-shlibdeps -O "${elves[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
    [[ -n "$shlibs" ]] || die "dpkg-shlibdeps found no dependency for $package"
    size=$(du -sk --exclude=DEBIAN "$dir" | cut -f1)
    sed -e "s|@VERSION@|$version|g" -e "s|@MAINTAINER@|$maintainer|" -e "s|@SIZE@|$size|" \
        -e "s|@SHLIBS@|$shlibs|" -e "s|@HOMEPAGE@|$homepage|" "Packaging/deb/control.$package" > "$dir/DEBIAN/control"
    (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$dir/DEBIAN/md5sums"
    chmod 0644 "$dir/DEBIAN/md5sums" "$dir/DEBIAN/control" "$dir/DEBIAN/conffiles" 2>/dev/null || true
    rm -f "$out/${package}_${version}_amd64.deb"
    dpkg-deb --root-owner-group -Zxz -z"$xz_level" --threads-max="$(nproc)" --build "$dir" "$out/${package}_${version}_amd64.deb" >/dev/null
    echo "   $out/${package}_${version}_amd64.deb"
done

# --- 5. The .rpms (Packaging/README.md says where they install) -------------------------------------
if [[ $deb_only -eq 1 ]]; then
    echo "== sizes"
    (cd "$out" && ls -l --block-size=K ./*"_${version}_"*.deb | awk '{print "   " $5 "  " $9}')
    exit 0
fi
echo "== .rpm"
rpm_stage=$work/stage/rpm
stage rpm "$rpm_stage"
rpm_top=$work/rpmbuild
rm -rf "$rpm_top" && mkdir -p "$rpm_top"/{BUILD,RPMS,SPECS,SRPMS,SOURCES}
rpm_version=${version//-/.}
sed -e "s|@VERSION@|$rpm_version|g" -e "s|@STAGE@|$rpm_stage|g" -e "s|@COPYRIGHT@|$root/Packaging/deb/copyright|" -e "s|@HOMEPAGE@|$homepage|" \
    -e "s|@MAINTAINER@|$maintainer|" -e "s|@CHANGELOG_DATE@|$(date -u -d "@$date_epoch" '+%a %b %d %Y')|" \
    Packaging/rpm/cpsd.spec.in > "$rpm_top/SPECS/cpsd.spec"
rpmbuild --quiet -bb --define "_topdir $rpm_top" --define "_build_id_links none" \
    --define "debug_package %{nil}" --define "__strip /bin/true" --target x86_64-linux \
    --define "_binary_payload w${xz_level}T$(nproc).xzdio" \
    "$rpm_top/SPECS/cpsd.spec" >"$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; die "rpmbuild failed"; }
for package in cpsd cpsd-tools; do
    file=$(find "$rpm_top/RPMS" -name "$package-$rpm_version-1.x86_64.rpm")
    [[ -n "$file" ]] || die "rpmbuild made no $package rpm"
    cp "$file" "$out/"
    echo "   $out/$(basename "$file")"
done

echo "== sizes"
(cd "$out" && ls -l --block-size=K ./*"$version"* "./cpsd-$rpm_version-1.x86_64.rpm" 2>/dev/null | awk '{print "   " $5 "  " $9}' | sort -u)
