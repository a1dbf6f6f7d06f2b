# Loyalty ROI Workbook — every target that needs the environment depends on it,
# so a fresh clone needs nothing but `make report` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
KERNEL := loyalty-roi
SETUP_STAMP := $(VENV)/.stamp-setup
TEST_STAMP := $(VENV)/.stamp-test
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

MONTH ?= latest
CONFIG ?= config/workbook.yml
# Jupyter refuses to run as root (containers, CI boxes) unless told to
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help setup report reports test test-fast lint docs workshop workshop-data lab dashboard bench bench-large clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# uv comes from PyPI; PIP_CONFIG_FILE=/dev/null ignores machine-wide pip settings (uv reads none of them)
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	PIP_CONFIG_FILE=/dev/null $(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

REGISTER_KERNEL = $(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (loyalty-roi)" >/dev/null

$(SETUP_STAMP): $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact --python $(PYTHON) --extra dev
	$(REGISTER_KERNEL)
	@touch $@

# the test suite also needs the optional Spark engine (parity test)
$(TEST_STAMP): $(SETUP_STAMP)
	$(UV) sync --frozen --inexact --python $(PYTHON) --extra dev --extra spark
	$(REGISTER_KERNEL)
	@command -v chromium >/dev/null || { echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian postgresql for the database-source tests"; \
	  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
	@touch $@

setup: $(SETUP_STAMP) ## Create .venv from uv.lock and register the Jupyter kernel (idempotent)

report: setup ## Produce the monthly report (latest complete month in the data; MONTH=YYYY-MM CONFIG=path)
	$(PY) -m loyalty_roi.cli report --month $(MONTH) --config $(CONFIG)

reports: setup ## Backfill monthly reports for a range: make reports FROM=2026-01 TO=2026-10 [CONFIG=path]
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make reports FROM=YYYY-MM TO=YYYY-MM"; exit 2; }
	$(PY) -m loyalty_roi.cli reports --from $(FROM) --to $(TO) --config $(CONFIG)

# two workers (pytest-xdist); a file's tests stay on one worker so module fixtures are built once
TEST_WORKERS ?= 2
test: setup $(TEST_STAMP) lint ## Lint, then the library, notebook and browser tests
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

test-fast: setup $(TEST_STAMP) ## The edit loop: lint and the tests not marked slow (no notebooks, reports, browser or Spark)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

lint: setup ## ruff on the library, tests and notebooks; notebooks committed without outputs
	$(VENV)/bin/ruff check lib tests notebooks
	$(VENV)/bin/ruff format --check lib tests
	$(VENV)/bin/nbstripout --verify --keep-id $$(git ls-files '*.ipynb')

docs: setup ## The documentation site in site/ (generated pages refreshed from the code first; strict: a broken link fails)
	$(PY) docs/generate.py
	$(VENV)/bin/mkdocs build --strict

bench: setup $(TEST_STAMP) ## Benchmarks: report end to end, engine vs SQL vs pandas (1M, 10M), lift coverage, what-if latency
	$(PY) bench/report_bench.py
	$(PY) bench/engine_bench.py
	$(PY) bench/coverage.py
	$(PY) bench/whatif_bench.py

bench-large: setup $(TEST_STAMP) ## The report on ≈100M transactions (generated shard by shard; takes long)
	$(PY) bench/report_bench.py --sizes 100M --out-name report_large

dashboard: setup ## Serve the what-if explorer (notebook 05) with Voilà on http://127.0.0.1:8866
	$(VENV)/bin/voila notebooks/05_whatif_dashboard.ipynb --no-browser --port=8866 --Voila.ip=127.0.0.1

workshop-data: setup ## Generate and ingest the small fixed-seed workshop program (data/workshop/)
	$(PY) -c "from loyalty_roi.workshop import prepare; print('workshop data ready in', prepare())"

workshop: workshop-data ## Prepare the workshop data and open JupyterLab at notebooks/workshop/
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks/workshop --ip=127.0.0.1 $(LAB_ROOT)

lab: setup ## Open JupyterLab on notebooks/
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 $(LAB_ROOT)

clean: ## Remove the environment, generated demo data, processed data and caches (reports are kept)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache .hypothesis data/raw/demo data/workshop
	find data/processed -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
