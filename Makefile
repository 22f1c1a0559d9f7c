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

.PHONY: help setup demo sample ingest build serve test test-fast bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(VENV)/.installed  ## create .venv with the pinned dependencies and the movierec package

$(SAMPLE_DIR)/.done: $(VENV)/.installed
	$(BIN)/movierec generate --size $(SAMPLE) --out $(SAMPLE_DIR)
	@touch $@

sample: $(SAMPLE_DIR)/.done  ## generate the built-in sample (SAMPLE=tiny|demo|medium|full, default demo)

ingest: sample  ## load the sample into the warehouse (DATA=folder to load real files instead)
	$(BIN)/movierec ingest $(or $(DATA),$(SAMPLE_DIR))

build: setup  ## dbt build: staging, marts, models, metrics and their tests
	$(BIN)/dbt build

demo: ingest build  ## set up, generate the demo sample, ingest it and run dbt build

serve: setup  ## the HTTP API on http://127.0.0.1:8000 (OpenAPI docs at /docs)
	$(BIN)/movierec serve

test: setup  ## run the whole test suite
	$(BIN)/python -m pytest

test-fast: setup  ## the tests that take under a few seconds each
	$(BIN)/python -m pytest -m "not slow"

bench: setup  ## every benchmark (slow: full-size generation, ingestion, marts, serving; ml-100k models; the medium build)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_marts.py
	$(BIN)/python benchmarks/bench_ml100k.py
	$(BIN)/python benchmarks/bench_ranking.py
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

.PHONY: reports notebooks figures

reports:  ## Evidence reports in reports/build (npm ci, sources, build; needs Node 18+ and the DuckDB extension host)
	bash reports/build.sh

notebooks: setup  ## execute the notebooks on the warehouse and render them to docs/notebooks/*.html
	@test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
		--output-dir docs/notebooks $(NOTEBOOKS)

figures: setup  ## regenerate the README's charts (docs/images/*.png) from the warehouse by running the notebooks
	@test -f "$(MOVIEREC_WAREHOUSE)" || { echo "no warehouse at $(MOVIEREC_WAREHOUSE): run make demo first"; exit 1; }
	for notebook in $(NOTEBOOKS); do \
		MOVIEREC_SAVE_FIGURES=$(CURDIR)/docs/images $(BIN)/jupyter nbconvert --to notebook --execute \
			--ExecutePreprocessor.timeout=600 --stdout $$notebook > /dev/null || exit 1; \
	done
	@ls -l docs/images/*.png
