# jianfu — two commands on a fresh machine: `make demo`, then `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed-stamp

.PHONY: help install demo test test-fast bench bench-national bench-double bench-year bench-publish bench-airflow bench-console lint airflow lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv with every pinned dependency and the jianfu command

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) 2>&1 | grep -v "is ignored" || true
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.txt -r requirements-dev.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "installed: $(BIN)/jianfu, $(BIN)/airflow"

demo: install ## sample data for the pilot counties, every DAG through Airflow, a summary
	@bash scripts/demo.sh

test: install ## the whole test suite (needs the local PostgreSQL and Redis; .ci/run starts them)
	$(BIN)/python -m pytest

test-fast: install ## the suite without the slow Airflow end-to-end tests
	$(BIN)/python -m pytest -m "not slow"

bench: install ## province-month benchmark against a plain pyarrow baseline -> docs/BENCHMARKS.md
	$(BIN)/python bench/run.py

bench-national: install ## the national month (2,978 counties, ~10M rows; once each) -> docs/BENCHMARKS-national.md
	BENCH_SCALE=national BENCH_REPEATS=1 BENCH_NODOCS=0 BENCH_SMALL_FILES=0 BENCH_OUT=bench/out/national \
		BENCH_DOC=docs/BENCHMARKS-national.md $(BIN)/python bench/run.py

bench-double: install ## the national month doubled (~20M rows): ingest and build memory -> docs/BENCHMARKS-national-double.md
	$(BIN)/python bench/double_month.py $(SAMPLE)

bench-year: install ## twelve national months ingested month by month, built, one county resubmitted (~1 h, 50 GB) -> docs/BENCHMARKS-national-year.md
	$(BIN)/python bench/year.py

bench-publish: install ## a one-partition publish on a national month's and a national year's form_counts (seconds printed)
	$(BIN)/python bench/publish_growth.py

bench-airflow: install ## the national month: CLI vs jianfu_ingest -> jianfu_build in Airflow (SAMPLE=dir: another month) -> bench/out/airflow_path.json
	$(BIN)/python bench/airflow_path.py $(SAMPLE)

bench-console: install ## each console page's server time on a province month (target p95 <= 300 ms)
	$(BIN)/python bench/console_pages.py

lint: install ## ruff over the code
	$(BIN)/ruff check include dags tests bench

airflow: install ## Airflow UI on http://127.0.0.1:8080 (its components, project-local AIRFLOW_HOME; Ctrl-C stops)
	@bash scripts/airflow_standalone.sh

lock: ## re-resolve requirements*.txt from requirements*.in (needs .venv)
	$(BIN)/uv pip compile --python $(BIN)/python --quiet --no-header requirements.in -o requirements.txt
	$(BIN)/uv pip compile --python $(BIN)/python --quiet --no-header requirements-dev.in -o requirements-dev.txt

clean: ## remove generated data (keeps .venv)
	rm -rf data .airflow bench/out
