# Every target sets up what it needs first; CI calls these verbatim.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Python: the Lambda runtime's 3.13 when pyenv has it, else python3 (3.11 or newer).
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.0/bin/python3.13) $(shell command -v python3.13 python3 2>/dev/null))
VENV := .venv
BIN := $(VENV)/bin
# The lock: exact versions of every dependency (pyproject.toml gives only ranges).
LOCK := constraints.txt
# No byte-compiling at install: Python compiles what it imports, on first import; compiling
# all of numpy and the rest up front is a third of the install time.
PIP_FLAGS := --quiet --disable-pip-version-check --no-compile
# Two stamps in one venv: serving needs the package with its web and server extras only;
# the tests, lint and benchmarks need the dev extra on top.
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
# The SAM CLI has dependencies of its own: it gets a virtual environment of its own, made
# only for the targets that run it (make setup, make test).
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_VERSION := 1.170.0
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: help setup serve test test-full lint bench fuzz wheel check-ranges clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(STAMP) $(SAM_STAMP)  ## create .venv (imghash editable, dev tools) and .venv-sam; idempotent

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "imghash needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	@# The distribution was called "imghash" until it was renamed imghash-service: drop an
	@# editable install of the old name, which would otherwise linger beside the new one.
	if $(BIN)/python -m pip show --quiet imghash >/dev/null 2>&1; then \
	  $(BIN)/python -m pip uninstall --quiet --yes imghash; fi
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[web,serve,heif]'
	touch $@

$(STAMP): $(SERVE_STAMP) pyproject.toml $(LOCK)
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[dev]'
	touch $@

$(SAM_STAMP):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) aws-sam-cli==$(SAM_VERSION)
	touch $@

serve: $(SERVE_STAMP)  ## run the API locally on HOST:PORT (default 127.0.0.1:3000)
	$(BIN)/python -m imghash.web --host $(HOST) --port $(PORT)

test: setup  ## run the whole test suite (SAM checks included)
	IMGHASH_SAM=$(abspath $(SAM_VENV)/bin/sam) SAM_CLI_TELEMETRY=0 $(BIN)/python -m pytest

test-full: setup  ## what make test samples, in full: every pattern, exact arithmetic, all of it under arm64
	IMGHASH_FULL=1 $(BIN)/python -m pytest tests/unit/test_unstable.py tests/corpus/test_imagehash_parity.py \
		tests/cross_cpu

lint: $(STAMP)  ## ruff, and mypy --strict on the package
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup  ## benchmarks: speed against the peers, robustness, imports, server, search
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[dev,bench]'
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "bench: could not install wrk (Debian's package); the server rows are skipped"
	$(BIN)/python bench/run.py

FUZZ_SECONDS ?= 1500
fuzz: setup  ## a long coverage-guided fuzz of the decoders (atheris); crashers go to tests/fuzz/crashers/
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[dev,fuzz]'
	$(BIN)/python -m tests.fuzz.campaign --seconds $(FUZZ_SECONDS)

wheel: $(STAMP)  ## build dist/imghash_service-*.whl (pip install it, with extras: README)
	$(BIN)/python -m pip wheel $(PIP_FLAGS) --no-deps --no-build-isolation --wheel-dir dist .

# pyproject.toml's ranges of what decides pixel values (numpy, Pillow, simplejpeg), tested at
# both ends: the tests whose values they decide run on the oldest versions the ranges admit
# (RANGE_OLDEST: the ranges' lower bounds, which tests/packaging/test_lock.py keeps equal) and
# on the newest the index has. Needs the network; not part of `make test`.
RANGE_OLDEST := numpy==2.1.0 pillow==11.1.0 simplejpeg==1.9.0
RANGE_NAMES := numpy pillow simplejpeg
RANGE_TESTS := tests/corpus tests/unit
check-ranges:  ## run the value-deciding tests on the oldest and the newest numpy and Pillow allowed
	for end in oldest newest; do \
	  venv=.venv-range/$$end; \
	  test -x $$venv/bin/python || $(PYTHON) -m venv $$venv; \
	  grep -v -E '^($(subst $() ,|,$(RANGE_NAMES)))==' $(LOCK) > $$venv/lock.txt; \
	  if [ $$end = oldest ]; then ends="$(RANGE_OLDEST)"; else ends="--upgrade $(RANGE_NAMES)"; fi; \
	  $$venv/bin/python -m pip install $(PIP_FLAGS) -c $$venv/lock.txt -e '.[dev]' $$ends; \
	  echo "check-ranges: $$end"; \
	  $$venv/bin/python -m pip list 2>/dev/null | grep -i -w -E '$(subst $() ,|,$(RANGE_NAMES))'; \
	  IMGHASH_REQUIRE_CORPUS=1 $$venv/bin/python -m pytest -q -p no:cacheprovider $(RANGE_TESTS); \
	done

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) $(SAM_VENV) .venv-range .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
