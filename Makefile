# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
ARGS   ?=
PACKAGES := schemas mock_server contract_tests validating_proxy

.PHONY: serve test lint bench clean

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

test: lint $(VENV)/.installed-js
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
