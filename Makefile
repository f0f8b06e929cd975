# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
ARGS   ?=
PACKAGES := schemas mock_server contract_tests validating_proxy

.PHONY: serve test lint bench clean redis-server

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

# The shared-state tests run a real redis-server (Debian's package); installed when missing and
# we may (root or sudo), otherwise those tests skip saying why.
redis-server:
	-@command -v redis-server >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null; \
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
			(sudo apt-get update -qq && sudo apt-get install -y -qq redis-server) >/dev/null; \
		else echo "redis-server missing and not installable here: the Redis tests will skip"; fi; }

test: lint $(VENV)/.installed-js redis-server
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
