#!/usr/bin/env bash
# `make asan-check`: cpsd built with the address sanitizer, then the tests where a card or a client
# controls buffer sizes run against it (DaemonBufferTests: a key directory that lies about the key size).
# A heap overflow or use-after-free in cpsd makes ASan abort cpsd, which those tests see as a dead daemon.
# Not part of `make test` (a second full build of the package); run it after touching the C interop.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-asan
swift build --scratch-path "$scratch" -Xswiftc -sanitize=address --product cpsd
export CPSD_EXECUTABLE="$PWD/$scratch/debug/cpsd"
# ASan's own reports go to cpsd's log (its stderr); abort at the first one.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0"
swift build --build-tests
swift test --skip-build --filter "${ASAN_FILTER:-DaemonBufferTests|DaemonPINSafetyTests}"
