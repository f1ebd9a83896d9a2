#!/usr/bin/env bash
# Builds cpsd's drop-in PKCS#11 module (PKCS11Module/, plain C, no Swift runtime: it is loaded into
# practice software's own processes) as .build/pkcs11-module/libcps3_pkcs11_lux.so, or into $1.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/pkcs11-module/libcps3_pkcs11_lux.so}
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046
cc -shared -fPIC -O2 -Wall -Wextra -Werror -fvisibility=default $(pkg-config --cflags p11-kit-1) \
    -Wl,-soname,libcps3_pkcs11_lux.so -o "$out.tmp" PKCS11Module/*.c -lcrypto -ldl -lpthread
mv "$out.tmp" "$out"
echo "$out"
