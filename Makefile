# cpsd — the two commands: `make demo` and `make test`. Both install missing Debian packages first.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
DEMO_DIR ?= $(CURDIR)/.build/demo

.PHONY: all deps build release module packages test-packages test demo bench fuzz asan-check clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The drop-in for software that loads Cryptolib CPS by path (PKCS11Module/README.md).
module: deps
	@./scripts/build-pkcs11-module.sh

# Two runs of the one test binary: the in-process suites first (the daemon's reader actors, the PKCS#11
# layer, the simulator…), then the end-to-end suites, whose many child processes would otherwise share
# the two threads of the concurrency pool with in-process suites waiting on their own events.
test: deps
	@./scripts/check-interop.sh
	@./scripts/check-layers.py
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip IntegrationTests
	$(SWIFT) test --skip-build --filter IntegrationTests
	@./scripts/test-packages.sh

# The .deb and .rpm packages (Packaging/README.md), from a release build with the Swift runtime linked
# statically, in its own scratch path (.build-packages): out/packages/.
packages: deps
	@./scripts/build-packages.sh

# Builds the packages, lints them, installs the .debs here (root), checks them as a new user, upgrades,
# removes, purges and compares the system's file list (scripts/test-packages.sh). Part of `make test`.
test-packages: deps
	@./scripts/test-packages.sh

demo: build
	@./scripts/demo.sh "$(DEMO_DIR)"

# Benchmarks print figures (release build: make bench CONFIG=release).
CONFIG ?= debug
bench: deps
	$(SWIFT) build -c $(CONFIG)
	@./scripts/bench.sh $(CONFIG)
	@echo; ./scripts/bench-cryptolib.sh $(CONFIG)
	@echo; echo "== make fuzz at FUZZ_SCALE=$(BENCH_FUZZ_SCALE) (make fuzz runs the full campaign)"
	@FUZZ_SCALE=$(BENCH_FUZZ_SCALE) scripts/fuzz/fuzz.py --config $(CONFIG) \
		|| echo "(benchmarks have no pass/fail: the campaign's failed figures are listed above)"

# The fault campaign of issue 10: bounded, seeded, stops by itself, prints figures; exit 1 if a
# must-be-zero figure is not zero. FUZZ_SCALE=0.1 for a quick run, FUZZ_SEED=N for another seed.
BENCH_FUZZ_SCALE ?= 0.05
fuzz: build
	@scripts/fuzz/fuzz.py --config debug

# cpsd built with the address sanitizer (.build-asan), and the buffer and PIN-safety tests run against it.
asan-check: deps
	@./scripts/asan-check.sh

clean:
	rm -rf .build
