# Every target builds .venv from the project's own files if it is missing or stale.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= $(or $(SANDBOX_REGISTRY_DB),registry.db)
DEMO_PROJECTS ?= 40
PORT ?= 8000

.PHONY: run test test-all lint bench clean screenshots

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# A demo registry if there is none yet, a token for one user of each role, then the server.
run: $(STAMP)
	test -e $(DB) || $(BIN)/sandbox-registry demo --db $(DB) --projects $(DEMO_PROJECTS) --no-tokens
	$(BIN)/sandbox-registry token demo --db $(DB)
	$(BIN)/sandbox-registry serve --db $(DB) --host 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check schemas events projections sandbox tests bench
	$(BIN)/mypy

# The browser tests need Debian's chromium and a CJK font: installed here when missing.
# `make test` leaves out the tests marked slow (servers killed mid-load, several processes on
# one file, the README's walkthrough against a live server, the stateful lifecycle model);
# `make test-all`, which CI (.ci/run) runs, includes them.
MARKS ?= not slow
test: lint
	.ci/browser-deps
	$(BIN)/pytest -W error::DeprecationWarning -m "$(MARKS)"

test-all:
	$(MAKE) test MARKS=

bench: $(STAMP)
	$(BIN)/python bench/store.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/proofs.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/commands.py

# The README's screenshots of the pages, taken in Debian's chromium as the browser tests drive it.
screenshots: $(STAMP)
	.ci/browser-deps
	$(BIN)/python -m tests.web.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
