# The map between components. `make demo` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= demo
SAMPLE_DIR := data/sample-$(SAMPLE)

export MOVIEREC_WAREHOUSE ?= warehouse/movierec.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1

.PHONY: help setup demo sample ingest build serve test test-fast lint format bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# numba compiles the kernels on first use and caches them in __pycache__: do it here, once per
# change of a kernel, so that no fit pays the ~10 s
$(VENV)/.warm: $(VENV)/.installed $(wildcard src/movierec/models/_*_kernel.py)
	$(BIN)/python -m movierec.models.warm
	@touch $@

setup: $(VENV)/.warm  ## create .venv with the pinned dependencies and the movierec package, compile its kernels

$(SAMPLE_DIR)/.done: $(VENV)/.installed
	$(BIN)/movierec generate --size $(SAMPLE) --out $(SAMPLE_DIR)
	@touch $@

sample: $(SAMPLE_DIR)/.done  ## generate the built-in sample (SAMPLE=tiny|demo|medium|full, default demo)

ingest: sample  ## load the sample into the warehouse (DATA=folder to load real files instead)
	$(BIN)/movierec ingest $(or $(DATA),$(SAMPLE_DIR))

build: setup  ## dbt build: staging, marts, models, metrics and their tests
	$(BIN)/dbt build

demo: ingest build  ## set up, generate the demo sample, ingest it and run dbt build
	@$(BIN)/movierec summary

serve: setup  ## the HTTP API on http://127.0.0.1:8000 (OpenAPI docs at /docs)
	$(BIN)/movierec serve

# The suite on two workers (pytest-xdist): each test module runs whole on one worker, the longest
# first (their order: LONGEST_MODULES in tests/conftest.py). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: setup java  ## run the whole test suite (on two cores; PYTEST_WORKERS=0: in one process)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: setup  ## the tests that take under a few seconds each
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

# The linters' configs: [tool.ruff] in pyproject.toml, .sqlfluff and .sqlfluffignore. sqlfluff renders
# each model with the dbt templater on an empty in-memory warehouse (its vars: .sqlfluff), so it
# needs no build and never touches $(MOVIEREC_WAREHOUSE).
SQL_LINT_PATHS := models analyses tests/data_tests
SQLFLUFF := MOVIEREC_WAREHOUSE=:memory: $(BIN)/sqlfluff

lint: setup  ## ruff (lint and format check) on the Python, sqlfluff on the SQL (dbt templater); changes nothing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(SQLFLUFF) lint $(SQL_LINT_PATHS)

format: setup  ## apply the fixable lint: ruff's fixes and formatter, sqlfluff fix (then make lint shows what is left)
	$(BIN)/ruff check --fix-only .
	$(BIN)/ruff format .
	$(SQLFLUFF) fix $(SQL_LINT_PATHS)

bench: setup  ## every benchmark (slow: full-size generation, ingestion, marts, serving; ml-100k models and peers; sample vs MovieLens; the medium build)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.txt -r requirements-bench.txt
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_marts.py
	$(BIN)/python benchmarks/bench_ml100k.py
	$(BIN)/python benchmarks/bench_ranking.py
	$(BIN)/python benchmarks/bench_sample_realism.py
	$(BIN)/python benchmarks/bench_mf_full.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_full_build.py --size medium

lock:  ## refreeze requirements.txt from requirements.in in a scratch venv
	rm -rf /tmp/movierec-lock && $(PYTHON) -m venv /tmp/movierec-lock
	/tmp/movierec-lock/bin/pip install --quiet -r requirements.in
	(echo "# Exact pins of every package (make lock regenerates this from requirements.in)."; \
	 /tmp/movierec-lock/bin/pip freeze) > requirements.txt

clean:  ## remove the warehouse, generated samples and dbt output (keeps .venv)
	rm -rf warehouse data target logs

# --- Reports, notebooks and the README's pictures -------------------------------------------
# The notebooks read $(MOVIEREC_WAREHOUSE) read-only; `make demo` builds it from the sample.
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
export PLOOMBER_STATS_ENABLED := false
export PLOOMBER_VERSION_CHECK_DISABLED := true

.PHONY: notebooks figures tutorial-figures

notebooks: setup  ## execute the notebooks on the warehouse and render them to docs/notebooks/*.html
	@test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
		--output-dir docs/notebooks $(NOTEBOOKS)

figures: setup  ## redraw the charts (docs/images/*.png) by running the notebooks, and write the tutorial's figures
	@test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }
	for notebook in $(NOTEBOOKS); do \
		MOVIEREC_SAVE_FIGURES=$(CURDIR)/docs/images $(BIN)/jupyter nbconvert --to notebook --execute \
			--ExecutePreprocessor.timeout=600 --stdout $$notebook > /dev/null || exit 1; \
	done
	@ls -l docs/images/*.png
	$(MAKE) --no-print-directory tutorial-figures

tutorial-figures: setup  ## write the figures docs/tutorial.md quotes to docs/images/demo_figures.json, from the warehouse
	@test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }
	$(BIN)/python -m movierec.tutorial_figures --out docs/images/demo_figures.json

# --- Bad input: how fast a wrong file fails, what many rejects cost ----------------------------
.PHONY: bench-rejects

bench-rejects: setup  ## benchmark bad input: 100k-line wrong-layout files must fail in under 5 s
	$(BIN)/python benchmarks/bench_rejects.py

bench: bench-rejects

# --- A newcomer's tools: the build summary, the SQL shell, JupyterLab, dbt docs ---------------
# Each opens the warehouse that `make demo` built ($(MOVIEREC_WAREHOUSE)).
# OPEN_BROWSER=no keeps `make lab` and `make docs` from opening a browser.
LAB_PORT ?= 8888
DOCS_PORT ?= 8080
OPEN_BROWSER ?= yes
ANALYSES := $(wildcard analyses/*.sql)
# dbt's target folder: DBT_TARGET_PATH when set in the environment (dbt reads it too), else target
DBT_TARGET_PATH ?= target
COMPILED_ANALYSES := $(DBT_TARGET_PATH)/compiled/movierec/analyses
NEED_WAREHOUSE = @test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }

.PHONY: summary sql analyses lab docs

summary: setup  ## what the build made: data loaded, best models, serving model, next commands
	@$(BIN)/movierec summary

$(COMPILED_ANALYSES)/.compiled: $(ANALYSES) | $(VENV)/.installed
	$(NEED_WAREHOUSE)
	$(BIN)/dbt compile --select "resource_type:analysis" --quiet
	@touch $@

analyses: $(COMPILED_ANALYSES)/.compiled  ## compile analyses/ (questions in SQL) to target/compiled/movierec/analyses/

sql: analyses  ## DuckDB's SQL shell on the warehouse, read-only (SQL_WRITE=1: read-write)
	$(NEED_WAREHOUSE)
	@$(BIN)/duckdb $(if $(SQL_WRITE),,-readonly) \
		-cmd ".print 'movierec warehouse $(MOVIEREC_WAREHOUSE)$(if $(SQL_WRITE),, (read-only)). Main tables: fct_ratings, dim_movies, dim_users, mart_leaderboard, user_recommendations, similar_movies (.tables lists all).'" \
		-cmd ".print 'Questions to start from: .read $(COMPILED_ANALYSES)/<name>.sql, one per file of analyses/ (e.g. which_model_wins). .quit leaves; quit before a dbt build.'" \
		"$(MOVIEREC_WAREHOUSE)"

lab: setup  ## JupyterLab on notebooks/ (http://127.0.0.1:8888, LAB_PORT=), its kernel with jupysql and the warehouse connected
	$(NEED_WAREHOUSE)
	$(BIN)/python -m movierec.lab --port $(LAB_PORT) $(if $(filter no,$(OPEN_BROWSER)),--no-browser)

docs: setup  ## dbt docs generate, then serve them on http://127.0.0.1:8080 (DOCS_PORT=)
	$(NEED_WAREHOUSE)
	$(BIN)/dbt docs generate
	@echo "dbt docs: http://127.0.0.1:$(DOCS_PORT) (Ctrl-C stops)"
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) $(if $(filter no,$(OPEN_BROWSER)),--no-browser,--browser)

# --- Evidence reports: offline build, local server, real-browser test ------------------------
# `make reports` needs Node 18+ and npm, and no network once reports/node_modules is installed.
# `make test-reports` builds the site from the tiny sample in its own warehouse and opens every
# page in Debian's chromium (installed when missing), driven by Playwright.
REPORTS_PORT ?= 3000
REPORTS_TEST_WAREHOUSE := warehouse/reports-test.duckdb
REPORTS_TEST_SAMPLE := data/sample-tiny

.PHONY: reports reports-serve test-reports chromium

reports:  ## Evidence reports in reports/build from MOVIEREC_WAREHOUSE (npm ci, sources, build; offline)
	bash reports/build.sh

reports-serve: setup  ## serve reports/build on http://127.0.0.1:3000 (REPORTS_PORT) after make reports
	@test -f reports/build/index.html || { echo "no site in reports/build: run make reports first"; exit 1; }
	$(BIN)/python -m movierec.reports_site reports/build --port $(REPORTS_PORT)

chromium:  ## install Debian's chromium for the browser test, when it is missing (apt-get, as root)
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test-reports: setup chromium  ## build the reports from the tiny sample and check every page in headless chromium
	$(MAKE) --no-print-directory sample SAMPLE=tiny
	rm -f $(REPORTS_TEST_WAREHOUSE)
	$(BIN)/movierec ingest $(REPORTS_TEST_SAMPLE) --warehouse $(REPORTS_TEST_WAREHOUSE)
	MOVIEREC_WAREHOUSE=$(REPORTS_TEST_WAREHOUSE) $(BIN)/dbt run --target-path target/reports-test
	MOVIEREC_WAREHOUSE=$(REPORTS_TEST_WAREHOUSE) bash reports/build.sh
	MOVIEREC_REPORTS_SITE=reports/build $(BIN)/python -m pytest tests/reports_browser -p no:cacheprovider

# --- The same project on Apache Spark (issue 15; README "Beyond one machine") -------------------
# Local Spark in-process (dbt-spark's session method, pyspark from requirements.txt); it needs
# Java 17. Everything Spark writes stays under MOVIEREC_SPARK_DIR (default warehouse/spark).
.PHONY: java spark-demo bench-spark

java:  ## install Debian's OpenJDK 17 for the Spark target when no java is on PATH (apt-get, as root)
	@command -v java >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless; }

# The fits run between two builds: the serving and evaluation marts read what fit-spark wrote
# (source spark_fit), so the first build leaves them out and the second builds exactly them.
SPARK_POST_FIT := source:spark_fit+

spark-demo: setup java sample  ## the sample on local Spark: ingest --parquet, dbt build up to the marts, fit-spark, dbt build of serving and evaluation
	$(BIN)/movierec ingest $(or $(DATA),$(SAMPLE_DIR)) --parquet
	$(BIN)/dbt build --target spark --exclude $(SPARK_POST_FIT)
	$(BIN)/movierec fit-spark
	$(BIN)/dbt build --target spark --select $(SPARK_POST_FIT)
	@echo "serve it: .venv/bin/movierec recommend --spark --user ID, or MOVIEREC_SERVE_FROM=spark make serve"

bench-spark: setup java  ## the full pipeline (ingest, SQL models, fits, serving + evaluation marts) on DuckDB and local Spark side by side, slowest nodes per stage (SIZE=tiny|demo|medium, default demo; ENGINES=duckdb or spark for one side); figures also in benchmarks/.cache/bench-spark-SIZE.md
	$(BIN)/python benchmarks/bench_spark.py --size $(or $(SIZE),demo) $(if $(ENGINES),--engines $(ENGINES))
bench: bench-spark
