# Every target sets up what it needs first; CI calls these verbatim.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Python: the Lambda runtime's 3.13 when pyenv has it, else python3 (3.11 or newer).
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.0/bin/python3.13) $(shell command -v python3.13 python3 2>/dev/null))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The SAM CLI has dependencies of its own: it gets a virtual environment of its own.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_VERSION := 1.170.0
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: help setup serve test test-full lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 10

setup: $(STAMP) $(SAM_STAMP)  ## create .venv (imghash editable, dev tools) and .venv-sam; idempotent

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "imghash needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(SAM_STAMP):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)
	touch $(SAM_STAMP)

serve: setup  ## run the API locally on HOST:PORT (default 127.0.0.1:3000)
	$(BIN)/python -m imghash.web --host $(HOST) --port $(PORT)

test: setup  ## run the whole test suite (SAM checks included)
	IMGHASH_SAM=$(abspath $(SAM_VENV)/bin/sam) SAM_CLI_TELEMETRY=0 $(BIN)/python -m pytest

test-full: setup  ## what make test samples, in full: every pattern, exact arithmetic, all of it under arm64
	IMGHASH_FULL=1 $(BIN)/python -m pytest tests/unit/test_unstable.py tests/corpus/test_imagehash_parity.py \
		tests/cross_cpu

lint: setup  ## ruff, and mypy --strict on the package
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup  ## benchmarks: speed against the peers, robustness, imports, server, search
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "bench: could not install wrk (Debian's package); the server rows are skipped"
	$(BIN)/python bench/run.py

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
