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

.PHONY: help install run land up up-postgres down trigger test lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	@# A fresh machine has python3 and pip, not uv: bootstrap it in a private venv.
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

install: $(STAMP) ## Create .venv from uv.lock (bootstraps uv)

land: $(STAMP) ## Deliver the demo month MONTH (e.g. make land MONTH=3), or all months
	$(BIN)/retrainer land $(if $(MONTH),--month $(MONTH),--all)

run: $(STAMP) ## Set up, land the demo data and run the retrain flow once
	$(BIN)/retrainer land --all
	$(BIN)/retrainer run --config configs/flights.yaml

up: $(STAMP) ## Start Prefect + MLflow servers and the deployments, print the URLs (UP_ARGS=...)
	$(BIN)/retrainer up $(UP_ARGS)

up-postgres: $(STAMP) ## `make up` with Prefect's and MLflow's data in a local PostgreSQL server
	$(BIN)/retrainer up --postgres $(UP_ARGS)

down: ## Stop exactly what `make up` started
	@if [ -x $(BIN)/retrainer ]; then $(BIN)/retrainer down; else echo "no .venv: nothing to stop"; fi

trigger: $(STAMP) ## Start a retrain over the Prefect API and wait for it (PARAMS="-p k=v ...")
	$(BIN)/retrainer trigger --wait $(PARAMS)

test: $(STAMP) ## Run the test suite (unit, flow, end-to-end)
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

bench: $(STAMP) ## Plain script vs orchestrated flow: wall time and ROC AUC side by side
	$(BIN)/python -m bench.compare

clean: ## Delete all local state (RETRAINER_HOME)
	rm -rf "$(RETRAINER_HOME)"
