# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
# The machine's Python, found before the venv's bin goes first on PATH (below): it brings uv, the venv's does not.
HOST_PYTHON := $(shell command -v $(PYTHON))
UV := $(HOST_PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HUB_PACKAGES := benchmarks connectors governance hubcore linkage orchestration pseudonymisation reports rgw serving synth
MANIFEST := dbt_project/target/manifest.json

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export RGW_DATA ?= $(CURDIR)/data
export UV_PYTHON_DOWNLOADS := never
export DAGSTER_DISABLE_TELEMETRY := 1
# dagster-dbt runs the `dbt` it finds on PATH: the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

SCALE ?= focus
SEED ?= 42

.PHONY: install browser postgres serve serve-stop demo run test ui bench lint format clean help

help:
	@echo "make demo   install, generate a synthetic Rotterdam ($(SCALE)), run every asset, print a summary"
	@echo "make test   run the test suite"
	@echo "make serve  the PostgreSQL server for analysts on 127.0.0.1:$${RGW_PG_PORT:-5433} (make serve-stop stops it)"
	@echo "make ui     open the Dagster UI on the same instance (http://127.0.0.1:3000)"
	@echo "make bench  run the benchmarks (results in benchmarks/results/)"
	@echo "make lint   ruff, and the import contracts (lint-imports; make test checks them too)"

# Install from the lock file only: the same versions on every machine and in CI. Compiled to bytecode at install
# (--compile-bytecode, and compileall for the hub's own packages): otherwise a process that may not write __pycache__
# (PYTHONDONTWRITEBYTECODE, a read-only checkout) compiles Dagster, dbt and pandas from source at every start, some
# 5 s of CPU for each `rgw run` and again for each dbt build it starts.
$(STAMP): pyproject.toml uv.lock Makefile
	@$(UV) --version >/dev/null 2>&1 || $(HOST_PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --compile-bytecode --python $(HOST_PYTHON)
	@touch $@

install: $(STAMP) $(DAGSTER_HOME)/dagster.yaml $(MANIFEST)
	@$(BIN)/python -m compileall -q $(HUB_PACKAGES) >/dev/null

# Dagster loads its warehouse assets, and the column lineage its SQL, from dbt's manifest: dagster-dbt prepares it
# (`dbt compile`, see orchestration/dbt_manifest.py) on a fresh clone and again whenever the dbt project changed.
$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/tests) dbt_project/dbt_project.yml \
		dbt_project/profiles.yml orchestration/dbt_manifest.py
	$(BIN)/dagster-dbt project prepare-and-package --file orchestration/dbt_manifest.py
	@touch $@

# The instance's storage: SQLite under DAGSTER_HOME by default; with RGW_DAGSTER_PG_URL set, run, event and schedule
# storage on that PostgreSQL server (dagster-postgres). Rewritten whenever the choice changes.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml $(STAMP) FORCE
	@mkdir -p $(DAGSTER_HOME)
	@$(BIN)/python -m serving.dagster_instance dagster.yaml $@.new && \
	  { cmp -s $@.new $@ && rm $@.new || mv $@.new $@; }
FORCE:

demo: install browser
	$(BIN)/rgw demo --scale $(SCALE) --seed $(SEED)

run: install
	$(BIN)/rgw run

# The privacy report is tested in a real headless browser: Debian's chromium, installed here when missing (as root,
# as in CI; elsewhere install it once with `sudo apt-get install chromium`).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
	  echo "chromium is not installed and cannot be installed here: the browser test of the privacy report will fail"

# The analysts' server: Debian's PostgreSQL 15 with pgaudit, installed here when missing (as root, as in CI;
# elsewhere `sudo apt-get install postgresql-15 postgresql-15-pgaudit`). The binaries stay off PATH, in
# /usr/lib/postgresql/15/bin; the distribution's own cluster is not used (the hub makes its own under RGW_DATA).
PG_BIN := /usr/lib/postgresql/15/bin
postgres:
	@{ [ -x $(PG_BIN)/postgres ] && [ -f /usr/lib/postgresql/15/lib/pgaudit.so ]; } || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  export DEBIAN_FRONTEND=noninteractive && \
	  apt-get update -q >/dev/null && \
	  apt-get install -y -q --no-install-recommends postgresql-15 postgresql-15-pgaudit >/dev/null; } || \
	  echo "PostgreSQL 15 with pgaudit is not installed and cannot be installed here: the server tests will fail"

serve: install postgres
	$(BIN)/rgw serve start

serve-stop: install
	$(BIN)/rgw serve stop

test: install browser postgres
	$(BIN)/pytest -q -n 2 --dist loadfile

ui: install
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

bench: install
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(RGW_DATA) $(DAGSTER_HOME)
