# orgvend: `make run` starts the whole system locally, `make test` runs every check.
# Both set up what they need first (a Python 3.13 venv in .venv, asl-validator in node_modules).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# The Lambda runtime is python3.13; develop on the same version. pyenv users get it with
# PYENV_VERSION, others need python3.13 on PATH. Failing both, say so and use the newest Python.
export PYENV_VERSION ?= 3.13.0
PYTHON := $(shell for candidate in python3.13 python3.14 python3.12; do \
	  PYENV_VERSION=$(PYENV_VERSION) $$candidate -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)

.PHONY: run test lint typecheck format validate unit e2e template build bench fuzz clean help browser

help:
	@echo "make run    start the embedded AWS (moto on :4566) with orgvend deployed in it"
	@echo "            ORGVEND_MODE=hub make run: the stack in a hub account, the management role beside"
	@echo "make test   lint, type-check, validate the template and the ASL, run every test"
	@echo "make typecheck  mypy (strict) and the import boundaries (lint-imports)"
	@echo "make build  sam build (Python 3.13, no Docker)"
	@echo "make fuzz   fuzz the HTTP API longer than make test does"
	@echo "make bench  run the benchmarks under bench/"

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python 3.12+ found (install 3.13: pyenv install 3.13)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || \
	  echo "warning: Python 3.13 (the Lambda runtime) not found; using $(PYTHON) instead"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# checkov pins an old boto3 and packaging<24: it cannot share .venv with the project.
CHECKOV_VENV := $(VENV)/checkov
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==3.3.30
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

run: $(BIN)/.installed
	$(BIN)/orgvend-local

# The browser tests open the switch-role page in Debian's Chromium. Installed when absent and we may
# (root with apt-get, as CI is); otherwise say how, and the tests fail under CI=true rather than skip.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Chromium for the browser tests (apt-get install -y chromium)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "note: $(CHROMIUM) is missing; install it (sudo apt-get install -y chromium) to run the browser tests"; \
	  fi; \
	fi

# Unit and template tests in parallel; the end-to-end tests in one process of their
# own, because the embedded AWS patches moto process-wide; then, in a process of their own, the
# tests of what a hub deployment changes once more with the stack in a hub account (ORGVEND_MODE=hub):
# the modes themselves, and every management-account service (Identity Center, budgets, costs,
# closure) and the member accounts reached directly from the hub (settings).
HUB_E2E := $(addprefix tests/e2e/,test_deployment_modes.py test_access.py test_budgets.py test_costs.py \
	test_offboarding.py test_settings.py)
test: lint typecheck validate browser $(CHECKOV_VENV)/.installed
	$(BIN)/pytest tests/unit tests/template -n 2
	$(BIN)/pytest tests/e2e
	ORGVEND_MODE=hub $(BIN)/pytest $(HUB_E2E)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy as pyproject.toml's [tool.mypy] says (strict on the shared package), then the import boundaries of
# [tool.importlinter]; both find the packages where the Lambda layer and the tools put them.
typecheck: $(BIN)/.installed
	$(BIN)/mypy
	PYTHONPATH=layers/common:local:cli:. $(BIN)/lint-imports

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(BIN)/.installed node_modules/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" sam validate --lint
	$(BIN)/cfn-lint template.yaml management-role.yaml
	npx --no-install asl-validator $(addprefix --json-path ,$(wildcard statemachines/*.asl.json))

build: $(BIN)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" sam build --parallel

# The API fuzz run of make test, with many more generated requests per operation.
fuzz: $(BIN)/.installed
	ORGVEND_FUZZ_EXAMPLES=300 $(BIN)/pytest tests/e2e/test_fuzz.py

bench: $(BIN)/.installed
	@for benchmark in bench/bench_*.py; do $(BIN)/python $$benchmark || exit 1; done

clean:
	rm -rf $(VENV) node_modules .aws-sam .pytest_cache .ruff_cache .mypy_cache .import_linter_cache tests/output
