# Smart Album. The README's two commands: `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help venv build package test up clean

VENV := .venv
# Tools installed into the venv (moto_server, cfn-lint, cargo-lambda, sccache) come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
ARTIFACT := target/lambda/runtime/bootstrap.zip
# sccache caches compiled dependencies across wiped target/ folders, once it is installed.
SCCACHE = $(if $(wildcard $(VENV)/bin/sccache),RUSTC_WRAPPER=$(CURDIR)/$(VENV)/bin/sccache,)

help:
	@echo "make up       run the whole product locally (local AWS + API + analyzer)"
	@echo "make test     install what is needed, start a local AWS, run every test, stop it"
	@echo "make package  build the Lambda artifact ($(ARTIFACT)) with cargo-lambda"
	@echo "make venv     install the pinned Python tools (requirements.txt) into $(VENV)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

build: venv
	$(SCCACHE) cargo build --locked --workspace

package: venv
	@start=$$(date +%s); \
	cargo lambda build --release --locked --bin runtime --output-format zip && \
	echo "Built $(ARTIFACT) in $$(( $$(date +%s) - start )) s"

test: venv package
	SMART_ALBUM_ARTIFACT=$(CURDIR)/$(ARTIFACT) $(SCCACHE) scripts/with-moto cargo test --locked --workspace
	@if [ -n "$(SCCACHE)" ]; then $(VENV)/bin/sccache --stop-server >/dev/null 2>&1 || true; fi

up:
	@echo "make up: not built yet. The local mode (moto + deployer up + runtime serve) lands with the local-mode issue."
	@echo "Today: make test, or the deployer against any AWS endpoint (see README.md)."
	@exit 1

clean:
	cargo clean
	rm -rf $(VENV)
