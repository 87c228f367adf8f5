# getsales-async: the one entry point. `make test` and `make demo` set everything up themselves.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=
# API changelog: `make generate` compares openapi/bundled.yaml with API_BASELINE (file or git:REV)
API_BASELINE ?= git:HEAD
OLD ?= git:HEAD
NEW ?= openapi/bundled.yaml
SPEC ?=
TARGETS ?= generate test

.PHONY: help install node spec generate api-diff refresh-dry-run check-generated lint format typecheck pytest test check demo bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv and install the project with its dev extra

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: $(NODE_STAMP) ## install the pinned npm tools (Redocly CLI, Prism, api-smart-diff) into node_modules/

spec: $(STAMP) $(NODE_STAMP) ## download the upstream OpenAPI bundle into openapi/bundled.yaml, report API changes
	$(PY) codegen/pull.py

generate: $(STAMP) $(NODE_STAMP) ## regenerate getsales_async/_generated; record API changes in CHANGELOG.md
	$(PY) codegen/generate.py --changelog CHANGELOG.md --api-baseline '$(API_BASELINE)'

api-diff: $(STAMP) $(NODE_STAMP) ## what changed for SDK users: make api-diff OLD=file|git:REV NEW=file
	$(PY) codegen/api_diff.py '$(OLD)' '$(NEW)'

refresh-dry-run: $(STAMP) $(NODE_STAMP) ## the spec-refresh workflow on a copy of the repo: make refresh-dry-run SPEC=file
	@test -n '$(SPEC)' || { echo "usage: make refresh-dry-run SPEC=path/to/bundled.yaml [TARGETS='generate test']"; exit 2; }
	$(PY) codegen/refresh.py --spec-file '$(SPEC)' --targets '$(TARGETS)'

check-generated: $(STAMP) ## fail if getsales_async/_generated differs from a fresh generation
	$(PY) codegen/check.py

lint: $(STAMP) ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict on getsales_async (generated code included)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP) ## run the test suite only
	$(BIN)/pytest $(PYTEST_ARGS)

test: check-generated lint typecheck pytest ## everything CI runs: drift check, lint, types, tests

check: test ## alias of test

demo: $(STAMP) ## import a 2,100-row sample into the built-in emulator and export it back
	$(PY) examples/demo.py

bench: $(STAMP) ## run the benchmarks (baselines in the same run) and write docs/benchmarks.md
	$(PY) -m tests.benchmarks

clean: ## remove the virtualenv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis build
