# Two commands do all the set-up on a fresh machine with Python 3.11+ (and Node.js 20.19+ for the console):
#   make run    install into .venv, build the console when stale, serve on the embedded default (SQLite)
#   make test   install into .venv and run the whole suite (lint, dashboard checks and build,
#               SQLite pass, PostgreSQL + Redis pass, each with the browser end-to-end tests)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
ARGS   ?=
NPM    := $(shell command -v npm 2>/dev/null)
# Everything the console's build is made from: it is rebuilt when one of these is newer than the build.
CONSOLE_SOURCES := $(shell find dashboard/src dashboard/public -type f 2>/dev/null) \
	dashboard/index.html dashboard/package.json dashboard/vite.config.ts dashboard/tsconfig.json

.PHONY: install run test lint format clean dashboard

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Garrison needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# A clean install of the locked versions (scripts/run_tests.py says why not `npm ci`).
dashboard/node_modules/.make-installed: dashboard/package-lock.json
	rm -rf dashboard/node_modules
	cd dashboard && npm install --no-save --no-audit --no-fund
	@touch $@

dashboard/dist/index.html: dashboard/node_modules/.make-installed $(CONSOLE_SOURCES)
	cd dashboard && npm run build
	@touch $@

# The operators' console, built into dashboard/dist (served under /admin).
dashboard: dashboard/dist/index.html

run: $(STAMP)
ifneq ($(NPM),)
	@$(MAKE) --no-print-directory dashboard || echo "warning: the console did not build; /admin says how to build it"
else
	@echo "note: Node.js is not installed, so the console is not built (/admin says how); the API serves as usual"
endif
	$(BIN)/garrison serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python scripts/run_tests.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests scripts bench
	$(BIN)/ruff format src tests scripts bench

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache dashboard/node_modules dashboard/dist
