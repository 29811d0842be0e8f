# Smart Album. The README's two commands: `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help venv onnxruntime nasm build build-tests package lint check test bench peer checkov wrk browser fuzz up down clean

VENV := .venv
# Tools installed into the venv (moto_server, cfn-lint, cargo-lambda, sccache) come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Where cargo puts its output (CARGO_TARGET_DIR when set, as many developers have it).
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
export CARGO_TARGET_DIR := $(TARGET_DIR)
# The functions' artifacts: $(ARTIFACTS)/api/bootstrap.zip and $(ARTIFACTS)/analyzer/bootstrap.zip.
ARTIFACTS := $(TARGET_DIR)/lambda
# ONNX Runtime's shared library, from the onnxruntime wheel pinned in requirements.txt: the
# analyzer loads it from beside its executable (or from ORT_DYLIB_PATH).
ONNXRUNTIME_LIB = $$(ls $(VENV)/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -n1)
# The bench's peers: Python with onnxruntime, numpy, Pillow and face_recognition, in a venv of its own.
PEER_VENV := $(TARGET_DIR)/peer-venv
CHECKOV_VENV := $(TARGET_DIR)/checkov-venv
# Incremental builds are not cached by sccache and take gigabytes per build of a workspace crate
# (a full disk once failed CI); make's builds are one-off, so they do without.
export CARGO_INCREMENTAL ?= 0
# sccache caches compiled dependencies across wiped target/ folders, once it is installed.
SCCACHE = $(if $(wildcard $(VENV)/bin/sccache),RUSTC_WRAPPER=$(CURDIR)/$(VENV)/bin/sccache,)

help:
	@echo "make up       run the whole product locally (local AWS + API + analyzer); TIER=, PORT="
	@echo "make down     stop what make up started"
	@echo "make test     install what is needed, start a local AWS, run every test, stop it"
	@echo "make lint     rustfmt check and clippy (warnings denied) on every crate and target"
	@echo "make check    lint, then every test that needs no emulator (under a minute on a warm build)"
	@echo "make bench    measure what users feel (release build, local AWS, wrk); figures in target/bench/"
	@echo "make fuzz     run every cargo-fuzz target for FUZZ_SECONDS (30) each on its committed corpus"
	@echo "make package  build the two Lambda artifacts ($(ARTIFACTS)/{api,analyzer}/bootstrap.zip) with cargo-lambda"
	@echo "make venv     install the pinned Python tools (requirements.txt) into $(VENV)"
	@echo "make onnxruntime  put the pinned ONNX Runtime library beside the debug and release binaries"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

onnxruntime: venv
	@for profile in debug release; do \
		install -D -m 755 "$(ONNXRUNTIME_LIB)" "$(TARGET_DIR)/$$profile/libonnxruntime.so"; done

build: venv onnxruntime nasm
	$(SCCACHE) cargo build --locked --workspace --bins

# The binaries and every test target in one build. With the tests' dev-dependencies in it, the
# binaries get the same dependency features as the tests (the SDK's test-util among them), so
# `cargo test` then compiles nothing again; after a plain `cargo build --bins` it built every
# SDK and workspace crate a second time (5 of a fresh clone's 23 minutes).
build-tests: venv onnxruntime nasm
	$(SCCACHE) cargo build --locked --workspace --bins --tests

# One build of both functions, by the deployer's own packaging (the path `deployer up` takes
# when it builds them itself): the `api` binary from the `runtime` crate, which has no vision
# dependency; `analyzer` from the `analyzer` crate, with ONNX Runtime's library put in its zip.
package: venv nasm
	@start=$$(date +%s); \
	$(SCCACHE) cargo run --locked --quiet -p deployer -- package && \
	echo "Packaged in $$(( $$(date +%s) - start )) s"

# rustfmt (rustfmt.toml) and clippy with warnings denied, on every crate and target, the fuzz
# workspace's formatting included. First in `make test`: a style slip fails in seconds. Clippy
# waits for the venv's sccache: without it a fresh clone checked every dependency from scratch
# (4.5 minutes).
lint: venv
	cargo fmt --all --check
	cargo fmt --manifest-path fuzz/Cargo.toml --check
	$(SCCACHE) cargo clippy --locked --workspace --all-targets -- -D warnings

# Every crate's tests that need no emulator: the domain's rules, the adapters' request shapes
# (the SDK's mock client), the router over the in-memory stores, the analyzer's batches and
# engines, the rendered templates and the deployer's packaging. The `tests` crate (the
# emulator's) is left to `make test`.
FAST_CRATES := contract domain aws-adapters runtime analyzer deployer local bench
check: lint onnxruntime
	$(SCCACHE) cargo test --locked $(addprefix -p ,$(FAST_CRATES))

# Lint first; then the binaries are built: tests run them (deployer, smart-album serve, smart-album label), and
# cargo builds a package's binaries for its own integration tests only. The Lambda artifacts the
# tests deploy are those same binaries, zipped by the deployer's packaging with ONNX Runtime's
# library (`deployer package --binaries`), not a second, release build of the workspace
# (`make package`: 13 minutes from cold on two cores). Every test binary runs (--no-fail-fast),
# so one failure does not hide others.
test: lint venv build-tests browser checkov
	$(TARGET_DIR)/debug/deployer package --binaries $(TARGET_DIR)/debug
	SMART_ALBUM_ARTIFACTS=$(ARTIFACTS) SMART_ALBUM_CHECKOV=$(CHECKOV_VENV)/bin/checkov $(SCCACHE) scripts/with-moto cargo test --locked --workspace --no-fail-fast
	@if [ -n "$(SCCACHE)" ]; then $(VENV)/bin/sccache --stop-server >/dev/null 2>&1 || true; fi

# Benchmarks report figures and never fail on a number; they are not part of `make test`.
# BENCH_ARGS passes options to the bench binary: make bench BENCH_ARGS="--only load,search"
bench: venv onnxruntime nasm peer wrk browser
	$(SCCACHE) cargo build --release --locked --workspace --bins
	scripts/with-moto $(TARGET_DIR)/release/bench --bin-dir $(TARGET_DIR)/release --out target/bench \
		--peer-python $(PEER_VENV)/bin/python $(BENCH_ARGS)
	@if [ -n "$(SCCACHE)" ]; then $(VENV)/bin/sccache --stop-server >/dev/null 2>&1 || true; fi

# checkov (requirements-checkov.txt, pinned), in a venv of its own: the tests scan every tier's
# template with it.
checkov: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# The peers the analyzer is compared with (bench/peer/requirements*.txt, pinned).
peer: $(PEER_VENV)/.installed

$(PEER_VENV)/.installed: bench/peer/requirements.txt bench/peer/requirements-no-deps.txt
	python3 -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/peer/requirements.txt
	$(PEER_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r bench/peer/requirements-no-deps.txt
	touch $@

# Debian packages, installed by name when their command is missing.
apt_install = command -v $(1) >/dev/null || { \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$sudo apt-get update -q && $$sudo apt-get install -y -q $(1); }

# nasm assembles libjpeg-turbo's SIMD code when the mozjpeg crate builds it from source.
nasm:
	@$(call apt_install,nasm)

# wrk loads the API from a second process.
wrk:
	@$(call apt_install,wrk)

# The gallery's browser tests: Debian's chromium, driven by playwright-core from the npm lock
# file (tests/browser/package-lock.json; no browser download).
browser: tests/browser/node_modules/.installed
	@$(call apt_install,chromium)

tests/browser/node_modules/.installed: tests/browser/package-lock.json
	@command -v npm >/dev/null || { sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); $$sudo apt-get update -q && $$sudo apt-get install -y -q nodejs npm; }
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

# cargo-fuzz's targets (fuzz/fuzz_targets/), each for FUZZ_SECONDS from its committed seed corpus
# (fuzz/corpus/); the inputs it finds go to $(TARGET_DIR)/fuzz/corpus/ and are reused by the next
# run (copy one into fuzz/corpus/ to keep it). libFuzzer's coverage needs the
# compiler's unstable flags: RUSTC_BOOTSTRAP lets the one stable toolchain take them. A crash
# stops the run with its input in fuzz/artifacts/: it becomes a regression test.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := photo token cursor names message tier
CARGO_FUZZ := $(CURDIR)/$(VENV)/bin/cargo-fuzz
fuzz: venv
	@[ -x $(CARGO_FUZZ) ] || cargo install cargo-fuzz --version 0.13.1 --locked --root $(VENV)
	@cd fuzz && for target in $(FUZZ_TARGETS); do \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s"; \
		mkdir -p $(TARGET_DIR)/fuzz/corpus/$$target; \
		RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(TARGET_DIR)/fuzz $(CARGO_FUZZ) run --sanitizer none $$target \
			$(TARGET_DIR)/fuzz/corpus/$$target corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|Done)|panicked|Test unit written|ERROR' ; \
		[ "$${PIPESTATUS[0]}" = 0 ] || exit 1; \
	done

# TIER (default CORE_USER), PORT (3000) and MOTO_PORT (4566) can be set: make up TIER=BASIC_USER
up: build
	@scripts/up

down:
	@scripts/down

clean:
	cargo clean
	rm -rf $(VENV)
