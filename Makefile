# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
ARGS   ?=
PACKAGES := schemas mock_server contract_tests validating_proxy

.PHONY: serve test lint bench clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/gemini-mock serve --host $(HOST) --port $(PORT) $(ARGS)

# The JS SDK test runs where node and npm exist; elsewhere it skips.
$(VENV)/.installed-js: | $(BIN)/python
	-command -v npm >/dev/null && npm install --prefix $(VENV)/js --no-audit --no-fund --silent @google/genai@^3 \
		&& touch $@

# Real servers the tests use, from Debian's packages, installed when missing and we may (root or
# sudo): redis-server for the shared-state tests, nginx (plain proxy_pass) as the relay control.
# Where they cannot be installed, those tests skip saying why.
SYSTEM_PACKAGES := redis-server:redis-server nginx:nginx-light
system-packages:
	-@missing=""; for pair in $(SYSTEM_PACKAGES); do \
		command -v "$${pair%%:*}" >/dev/null || [ -x "/usr/sbin/$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
		else echo "not installable here:$$missing (their tests will skip)"; exit 0; fi; \
		($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing) >/dev/null \
			|| echo "apt-get could not install:$$missing (their tests will skip)"; fi

test: lint $(VENV)/.installed-js system-packages
	$(BIN)/python -m pytest -q tests

# ruff, mypy, and the layers of docs/architecture.md (import-linter: contracts in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_server.py

clean:
	rm -rf $(VENV) build *.egg-info
