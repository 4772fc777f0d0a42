# SpineTrial developer entry points.  `make help` lists them; the logic lives in scripts/.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# The install steps must run in order (system packages before the virtualenv).
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
# Present when `pip install -e '.[dev]'` succeeded for the current pyproject.toml.
STAMP := $(VENV)/.installed

# Extra pytest arguments: make test ARGS="-k consent -x"  (PYTEST_ARGS works too, e.g. from the environment)
PYTEST_ARGS ?=
ARGS ?= $(PYTEST_ARGS)

.PHONY: help install system-packages run stop test coverage bench lint clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

system-packages: ## apt-get install PostgreSQL, Redis, gettext, chromium, only those missing
	@bash scripts/services.sh install_system_packages

install: system-packages $(STAMP) ## System packages + .venv with the project and its dev extras

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> pip install -e '.[dev]'"
	@PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(VENV)/bin/pip install --disable-pip-version-check --progress-bar off \
		-q -e '.[dev]'
	@touch $@

run: install ## Local demo on http://127.0.0.1:8000 (PostgreSQL + Redis in var/, Celery, gunicorn)
	@bash scripts/run.sh

stop: ## Stop the PostgreSQL/Redis of `make run` if a killed run left them behind
	@bash scripts/stop.sh

test: install ## ruff check + pytest on throwaway PostgreSQL/Redis (ARGS="..." for pytest)
	@bash scripts/test.sh $(ARGS)

coverage: install ## make test under line coverage, with the report per file (slower)
	@COVERAGE=1 bash scripts/test.sh $(ARGS)

bench: install ## manage.py bench --sizes 560,56000 on a throwaway database
	@bash scripts/bench.sh

lint: $(STAMP) ## ruff check and ruff format --check
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

clean: stop ## Stop services, remove var/ (database, logs, static) and the install stamp
	rm -rf var $(STAMP) .coverage htmlcov .pytest_cache .ruff_cache

distclean: clean ## clean + remove the virtualenv
	rm -rf $(VENV)
