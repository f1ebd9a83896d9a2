# cpsd — the two commands: `make demo` and `make test`. Both install missing Debian packages first.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
DEMO_DIR ?= $(CURDIR)/.build/demo

.PHONY: all deps build release test demo bench clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	@./scripts/check-interop.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@./scripts/demo.sh "$(DEMO_DIR)"

# Benchmarks print figures (release build: make bench CONFIG=release).
CONFIG ?= debug
bench: deps
	$(SWIFT) build -c $(CONFIG)
	@./scripts/bench.sh $(CONFIG)

clean:
	rm -rf .build
