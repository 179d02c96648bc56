# onewindow: two commands do everything on a fresh machine.
#   make run   - set up (venv, install, database, default catalogue, model) and start every process
#   make test  - the same set-up, then the whole test suite
#   make bench - the same set-up, then the benchmarks (prints figures)

PYTHON ?= python3.10
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CLI    := $(VENV)/bin/onewindow

.PHONY: run test bench setup venv eval clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.10 (see README)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23,<25"
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Database schema upgrade and default catalogue import (skipped when unchanged).
setup: venv
	$(CLI) setup

run: setup
	$(CLI) run

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_search.py

eval: setup
	$(CLI) kb eval data/eval/longgang-queries.tsv

clean:
	rm -rf $(VENV) var models .pytest_cache
