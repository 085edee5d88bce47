# anomalylab: `make help` lists the targets. `make reproduce` and `make test` work as the
# first command on a fresh machine with Python 3.11: they build .venv and fetch the data first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= $(shell command -v python3.11 || command -v python3)
VENV     := .venv
PY       := $(VENV)/bin/python
ENV_STAMP  := $(VENV)/.installed
DATA_STAMP := data/raw/.verified
NOTEBOOKS  := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES      := $(notdir $(basename $(NOTEBOOKS)))
PACKAGE    := $(shell find anomalylab -name '*.py' -o -name 'registry.txt' -o -name 'nab_split.csv')
# the package files each notebook really uses (its imports, followed through the package): see tools/notebook_deps.py
DEPS_MK    := build/notebook-deps.mk
FULL_STAMPS  := $(NAMES:%=build/stamps/%.full)
QUICK_STAMPS := $(NAMES:%=build/stamps/%.quick)
# MPLBACKEND unset: a non-interactive backend (Agg, as CI sets) would leave the notebooks without their figures
PAPERMILL  := env -u MPLBACKEND $(PY) -m papermill --log-output --no-progress-bar --kernel python3

.PHONY: help env data reproduce readme explorer quick test lab lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-15s %s\n", $$1, $$2}'

env: $(ENV_STAMP) ## build .venv from the pinned dependencies (pyproject.toml + requirements.lock)

$(ENV_STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found; install it or run 'make PYTHON=/path/to/python3.11 env'"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
	  { echo "error: $(PYTHON) is not Python 3.11; run 'make PYTHON=/path/to/python3.11 env'"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -c requirements.lock -e ".[notebooks,dev]"
	touch $@

data: $(DATA_STAMP) ## fetch and verify every raw file into data/raw (offline: set ANOMALYLAB_DATA_MIRROR)

# The stamp depends on every registered raw file: deleting one makes `make data` fetch again.
RAW_FILES := $(addprefix data/raw/,$(shell awk '!/^\#/ && NF {print $$1}' anomalylab/registry.txt))

$(DATA_STAMP): anomalylab/registry.txt $(RAW_FILES) | $(ENV_STAMP)
	$(PY) -m anomalylab.datasets
	touch $@

$(RAW_FILES): ;  # no recipe: a missing raw file only makes the stamp stale

# The notebooks, tests and reproduce runs use the fixed numerics (one thread per TensorFlow op and BLAS pool,
# oneDNN off: same numbers on any machine); importing anomalylab alone never changes a process's threads.
export ANOMALYLAB_FIXED_NUMERICS := 1

# A relative mirror is made absolute here, once: papermill and nbval run the notebooks in notebooks/.
ifdef ANOMALYLAB_DATA_MIRROR
export ANOMALYLAB_DATA_MIRROR := $(abspath $(ANOMALYLAB_DATA_MIRROR))
endif

# `make reproduce SEEDS=10`: the 10-seed grid of the tables whose default run uses fewer (04's K1 and K2: 6 seeds).
# The setting is recorded in build/stamps/seeds: changing it reruns the notebooks.
ifdef SEEDS
export ANOMALYLAB_SEEDS := $(SEEDS)
endif
SEEDS_STAMP := build/stamps/seeds

$(SEEDS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(SEEDS)' | cmp -s - $@ || echo '$(SEEDS)' > $@

.PHONY: FORCE
FORCE:

# Independent notebooks run side by side (one process each, TensorFlow on one thread in each: same numbers).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

reproduce: | $(ENV_STAMP) ## run every notebook in full mode (papermill, JOBS at a time; SEEDS=10 for the 10-seed grid); regenerates figures/, README and RESULTS.md tables, the explorer
	$(MAKE) -j$(JOBS) $(FULL_STAMPS)
	$(PY) -m anomalylab.reporting
	$(PY) -m anomalylab.explorer

explorer: | $(ENV_STAMP) ## build explorer/index.html (one offline page) from figures/scores and figures/tables
	$(PY) -m anomalylab.explorer

readme: | $(ENV_STAMP) ## regenerate the README's short table and RESULTS.md from figures/tables (no notebook runs)
	$(PY) -m anomalylab.reporting

# Full runs keep each fit's scores in build/fit-cache (anomalylab/evaluation/fitcache.py): rerunning a notebook
# after an edit of its prose, rules or figures reads them back; an edit of a model, the data or the libraries
# refits. `make reproduce FIT_CACHE=` fits everything; delete build/fit-cache to empty it.
FIT_CACHE ?= build/fit-cache

# Each notebook runs into build/papermill and replaces the committed one only when it finished.
# Stamps chain the notebooks in order: a later notebook reads what an earlier one wrote.
build/stamps/%.full: notebooks/%.ipynb $(DATA_STAMP) $(SEEDS_STAMP) | $(ENV_STAMP)
	@mkdir -p build/papermill build/stamps
	@echo "== $* (full) =="
	ANOMALYLAB_QUICK=0 ANOMALYLAB_FIT_CACHE=$(if $(FIT_CACHE),$(abspath $(FIT_CACHE))) $(PAPERMILL) --cwd notebooks $< build/papermill/$*.ipynb
	mv build/papermill/$*.ipynb $<
	touch $@

# What each notebook reads from earlier ones (through files, never kernel state); the rest is independent,
# so `make -j2 reproduce` may run e.g. 04 and 05 beside 02. 01 writes data/processed (02, 03, 04 read it);
# 03 reads 02's tables; 05 reads only raw data; 06 reads the tables of 02-05.
NEEDS_02_cnn_forecaster       := 01_data_preparation
NEEDS_03_attention_variants   := 01_data_preparation 02_cnn_forecaster
NEEDS_04_reconstruction_models := 01_data_preparation
NEEDS_05_hybrid_clustering    :=
NEEDS_06_final_comparison     := 02_cnn_forecaster 03_attention_variants 04_reconstruction_models 05_hybrid_clustering
$(foreach n,$(NAMES),$(eval build/stamps/$(n).full: $(NEEDS_$(n):%=build/stamps/%.full))$(eval \
  build/stamps/$(n).quick: $(NEEDS_$(n):%=build/stamps/%.quick)))

# A stamp depends on the package files its notebook imports, directly or through the package (generated, so
# editing the command line or the explorer reruns no notebook). Make rebuilds this file when a notebook or a package
# file changes, before it decides what is stale.
$(DEPS_MK): tools/notebook_deps.py $(NOTEBOOKS) $(PACKAGE)
	@mkdir -p $(@D)
	@$(firstword $(PYTHON) python3) tools/notebook_deps.py $(NOTEBOOKS) > $@.tmp && mv $@.tmp $@

ifeq ($(filter help clean env,$(MAKECMDGOALS)),)
-include $(DEPS_MK)
endif

quick: $(QUICK_STAMPS) ## run every notebook in quick mode into build/quick (never touches figures/)

build/stamps/%.quick: notebooks/%.ipynb $(DATA_STAMP) | $(ENV_STAMP)
	@mkdir -p build/quick/notebooks build/stamps
	@echo "== $* (quick) =="
	ANOMALYLAB_QUICK=1 $(PAPERMILL) --cwd notebooks $< build/quick/notebooks/$*.ipynb
	touch $@

# The unit tests and the notebooks (in order: a notebook reads what the earlier ones wrote) run side by side, one
# pytest each; each prints its report, with its slowest items, when it is done (make's --output-sync).
test: $(DATA_STAMP) ## unit tests (pytest) beside every notebook under nbval in quick mode; each prints when done
	@echo "unit tests and quick-mode notebooks run side by side; each prints its report when it is done"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-unit test-notebooks

.PHONY: test-unit test-notebooks
test-unit: $(DATA_STAMP) ## the unit tests alone (pytest tests)
	ANOMALYLAB_QUICK=1 $(PY) -m pytest tests --durations=10

test-notebooks: $(DATA_STAMP) ## the notebooks alone, in quick mode under nbval
	ANOMALYLAB_QUICK=1 $(PY) -m pytest notebooks --nbval-lax \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=1200 --durations=10

lab: $(DATA_STAMP) ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks

lint: $(ENV_STAMP) ## ruff check of the package, tests and notebooks
	$(VENV)/bin/ruff check anomalylab tests notebooks tools benchmarks

clean: ## remove build outputs and processed data (never committed results or raw data)
	rm -rf build data/processed .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
