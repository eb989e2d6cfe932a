# retrainer: `make run` sets everything up and retrains once; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
export RETRAINER_HOME ?= $(CURDIR)/.retrainer
# Compiled bytecode at install time: this machine sets PYTHONDONTWRITEBYTECODE=1, and without
# it every run recompiles every imported module (about 6 s).
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv

TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DOCS_ASSETS := $(CURDIR)/vendor/data-docs
DOCS_STAMP := $(DOCS_ASSETS)/node_modules/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: help install run land up up-postgres down trigger status test browser screenshots docs lint \
	format bench synth clean predict monitor serve-model replay

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	@# A fresh machine has python3 and pip, not uv: bootstrap it in a private venv.
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

$(DOCS_STAMP): $(DOCS_ASSETS)/package.json $(DOCS_ASSETS)/package-lock.json
	@# The scripts and styles Data Docs pages load from CDNs, for `make up`'s docs server.
	@if command -v npm >/dev/null; then \
	  cd $(DOCS_ASSETS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $(DOCS_STAMP); \
	else echo "no npm: Data Docs pages will load their styles from public CDNs (install Node.js)" >&2; fi

install: $(STAMP) $(DOCS_STAMP) ## Create .venv from uv.lock (bootstraps uv), Data Docs assets from npm

land: $(STAMP) ## Deliver the demo month MONTH (e.g. make land MONTH=3), or all months
	$(BIN)/retrainer land $(if $(MONTH),--month $(MONTH),--all)

run: $(STAMP) ## Set up, land the demo data and run the retrain flow once
	$(BIN)/retrainer land --all
	$(BIN)/retrainer run --config configs/flights.yaml

up: $(STAMP) $(DOCS_STAMP) ## Start Prefect, MLflow, Data Docs servers and the deployments (UP_ARGS=...)
	$(BIN)/retrainer up $(UP_ARGS)

up-postgres: $(STAMP) $(DOCS_STAMP) ## `make up` with Prefect's and MLflow's data in a local PostgreSQL server
	$(BIN)/retrainer up --postgres $(UP_ARGS)

down: ## Stop exactly what `make up` started
	@if [ -x $(BIN)/retrainer ]; then $(BIN)/retrainer down; else echo "no .venv: nothing to stop"; fi

trigger: $(STAMP) ## Start a retrain over the Prefect API and wait for it (PARAMS="-p k=v ...")
	$(BIN)/retrainer trigger --wait $(PARAMS)

status: $(STAMP) ## Champion, last runs and decisions, servers, next runs, rejected deliveries
	$(BIN)/retrainer status

browser: ## Install Debian's chromium for the browser tests if missing (root and apt only)
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests (about 2 minutes, once)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "no $(CHROMIUM) and no root to install it: the browser tests will be skipped" >&2; fi

test: $(STAMP) $(DOCS_STAMP) browser ## Run the test suite (unit, data, flow, end-to-end, browser)
	@# pytest exit 5 means no test ran: that is a failure, never a silent green.
	@$(BIN)/pytest $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	exit $$code

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Data sizes for `make bench`, in years of flights (1 = the demo's 2013, 3 = about 1M flights).
SCALES ?= 1 3

bench: $(STAMP) ## Scripts vs the flow, then parallel fold fits: time, memory, SCALES="1 3 10" (EVERY=n samples)
	@# A sampled run (EVERY) only prints; a full-size one also writes docs/benchmark.{md,json}.
	$(BIN)/python -m bench.compare --scales "$(SCALES)" $(if $(EVERY),--every $(EVERY),--out docs)
	@# The training stage in turn, on joblib, on Dask: every 5th flight unless EVERY says.
	$(BIN)/python -m bench.parallel --every $(or $(EVERY),5)

synth: $(STAMP) ## Land the demo and YEARS-1 synthetic years before it (YEARS=3; LANDING=dir)
	$(BIN)/python -m bench.synth $(or $(LANDING),$(RETRAINER_HOME)/landing) $(or $(YEARS),3)

screenshots: $(STAMP) $(DOCS_STAMP) browser ## Retrain on a stack in a temporary home; PNGs of both UIs into docs/
	$(BIN)/python -m retrainer.operations.screenshots docs/screenshots

docs: $(STAMP) ## Regenerate docs/config.md from the config models
	$(BIN)/python -m retrainer.operations.config_docs docs/config.md

predict: $(STAMP) ## Score newly landed records with the champion into the lake's predictions zone
	$(BIN)/retrainer predict

monitor: $(STAMP) ## Drift and performance of the latest scored month (PERIOD=YYYY-MM for another)
	$(BIN)/retrainer monitor $(if $(PERIOD),--period $(PERIOD))

serve-model: $(STAMP) ## Serve the champion over HTTP on port 5001 (PORT=...); follows the alias
	$(BIN)/retrainer serve-model $(if $(PORT),--port $(PORT))

replay: $(STAMP) ## 2013 month by month: never / monthly / on-alarm retraining (EVERY=n samples)
	$(BIN)/python -m bench.replay $(if $(EVERY),--every $(EVERY)) $(REPLAY_ARGS)

clean: ## Delete all local state (RETRAINER_HOME)
	rm -rf "$(RETRAINER_HOME)"
