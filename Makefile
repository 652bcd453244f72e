# Triage Desk: `make run` serves the app, `make test` runs lint and the whole suite.
# Both set up everything a fresh machine needs (virtualenv, Python packages, bun from npm).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV)/bin)
JS := $(abspath $(VENV)/js)
BUN_VERSION := 1.4.5
NODE_VERSION := 22.22.0
PORT ?= 3000
HOST ?= 127.0.0.1
# Test processes (pytest-xdist): the browser tests run in one of them, everything else is spread
# over all (its servers and browsers mostly wait); then the timing-sensitive tests (`serial`:
# load, scale, signals) run alone. Three on the two-core CI host, whose tests mostly wait on
# servers, browsers and PostgreSQL: in CI on fresh clones of the same code the parallel phase
# took 14:13 with three and 15:43 with two.
TEST_WORKERS ?= 3

export PATH := $(JS)/node_modules/.bin:$(BIN):$(PATH)
export REFLEX_USE_SYSTEM_BUN := true
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export NPM_CONFIG_REGISTRY := https://registry.npmjs.org/

.PHONY: run test install install-test migrate lint format bench clean

# Packages are reinstalled when requirements.txt's content changes, not its time: Reflex touches
# the file whenever it prepares a new web folder (every test server does), which made the next
# `make run` reinstall everything. The copy in .venv is rewritten only when the content differs
# (`+` runs that check under `make -n` too, so a dry run shows what a real one would do).
$(VENV)/requirements.txt: requirements.txt
	+@mkdir -p $(VENV) && { cmp -s requirements.txt $@ || cp requirements.txt $@; }

$(VENV)/.installed: $(VENV)/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The `triage-desk` command (pyproject.toml's console script) in .venv/bin; editable, so it runs
# this checkout's code. Dependencies come from requirements.txt above, hence --no-deps.
$(VENV)/.installed-command: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed tests/requirements.txt
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

# Reflex builds its frontend with bun; bun and Node come from npm because Reflex's own
# installer downloads from hosts that may be unreachable.
$(JS)/.installed:
	mkdir -p $(JS)
	npm install --prefix $(JS) --no-audit --no-fund --loglevel=error \
		bun@$(BUN_VERSION) node@$(NODE_VERSION)
	touch $@

# axe-core checks the console against WCAG 2.2 AA in the browser tests.
AXE_VERSION := 4.14.1
$(JS)/.installed-test: $(JS)/.installed
	npm install --prefix $(JS) --no-audit --no-fund --loglevel=error \
		bun@$(BUN_VERSION) node@$(NODE_VERSION) axe-core@$(AXE_VERSION)
	touch $@

install: $(VENV)/.installed $(VENV)/.installed-command $(JS)/.installed

install-test: install $(VENV)/.installed-test $(JS)/.installed-test

migrate: install
	$(BIN)/python -m ticket_app migrate

# Same start command as the container: migrate, then serve UI and API on one port.
run: install
	$(BIN)/python -m ticket_app serve --port $(PORT) --host $(HOST)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder -m "not serial" --durations=25
	$(BIN)/python -m pytest -m serial --durations=10

clean:
	rm -rf $(VENV) .web .states .web-* .states-*

# `make demo`: a fresh demo database (its own SQLite file, never DATABASE_URL) with a few thousand
# generated tickets from the 90 days before today (UTC; the same ones all day) and demo staff
# (admin, agent, viewer), then the app on PORT like `make run`. The staff passwords are
# generated and printed once, before the server starts ("Demo sign-in: demo-admin@... / ...").
.PHONY: demo bench-import
demo: install
	rm -f triage_desk_demo.db triage_desk_demo.db-wal triage_desk_demo.db-shm
	$(BIN)/python -m ticket_app demo --database-url sqlite:///$(CURDIR)/triage_desk_demo.db
	$(BIN)/python -m ticket_app serve --port $(PORT) --host $(HOST) \
		--database-url sqlite:///$(CURDIR)/triage_desk_demo.db

# `make bench-import`: import rate for 50,000 generated rows (TEST_DATABASE_URL, DATABASE_URL or a scratch SQLite file).
bench-import: install
	$(BIN)/python tests/benchmarks/bench_import.py --rows 50000
