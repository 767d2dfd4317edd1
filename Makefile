# Tokendesk: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev run test lint format chromium bench bench-scale clean

# The server's runtime dependencies only, and the CLI from clients/cli (its own distribution,
# `tokendesk` on the path): what `make run` needs to try the app.
$(STAMP): pyproject.toml clients/cli/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e . -e clients/cli
	touch $(STAMP)

# The `dev` extra on top (pytest, Playwright, ruff, schemathesis, axe-core…): `make test`.
$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

# DEBUG=1: development settings (.env with fresh secrets, plain HTTP); production leaves it unset.
# The web server and one background worker (e-mails, webhooks, scheduled work) together:
# Ctrl-C stops both, and the worker also stops if the server exits.
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@DEBUG=1 $(BIN)/python manage.py worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's chromium; install it when missing (needs root, as in CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-dev chromium lint
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# Tokendesk against DRF TokenAuthentication, knox and drf-api-key (bench/README.md).
# The comparison libraries come from the optional `bench` extra; the HTTP load is Debian's wrk.
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(DEV_STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# SQLite, then a throwaway PostgreSQL cluster bench/run.py starts itself (as .ci/run does).
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the HTTP load"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing Debian's PostgreSQL for the PostgreSQL half of the bench"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/oidc_exchange.py

# A million tokens on a throwaway PostgreSQL cluster (not part of `make test`): several minutes
# at SCALE=1.0; SCALE=0.1 for a tenth of everything (bench/scale.py).
SCALE ?= 1.0
bench-scale: $(BENCH_STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing Debian's PostgreSQL"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	$(BIN)/python bench/scale.py --scale $(SCALE)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
