#!/usr/bin/env bash
# STYLE.md rule 1: C modules and unsafe pointers only under a CInterop/ folder. Fails the build otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
imports=$(grep -rlE '^\s*(@_implementationOnly |internal |private |public |package )?import (CPCSCLite|CP11Kit)\b' Sources | grep -v '/CInterop/' || true)
unsafe=$(grep -rlE '\bUnsafe[A-Za-z]*\b|withUnsafe' Sources | grep -v '/CInterop/' || true)
if [[ -n "$imports" ]]; then echo "C modules imported outside CInterop/: $imports"; status=1; fi
if [[ -n "$unsafe" ]]; then echo "Unsafe pointers outside CInterop/: $unsafe"; status=1; fi
exit $status
