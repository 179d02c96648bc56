# onewindow: two commands do everything on a fresh machine.
#   make run   - set up (venv, install, database, default catalogue, model) and start every process
#   make test  - the same set-up, then the whole test suite
#   make bench - the same set-up, then the benchmarks (prints figures)

# Python 3.10 (Rasa 3.6 supports nothing newer): python3.10 on PATH (pyenv resolves it through
# .python-version), else pyenv's 3.10 install, else set PYTHON=/path/to/python3.10.
PYTHON ?= $(shell command -v python3.10 2>/dev/null || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CLI    := $(VENV)/bin/onewindow

.PHONY: run test bench setup venv eval clean browser model

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" && $(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null || { echo "error: Python 3.10 not found; install it or run make PYTHON=/path/to/python3.10 (see README)"; exit 1; }
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

# The Rasa model, trained when missing or stale.
model: setup
	$(CLI) train

# Debian's Chromium for the browser tests (never a browser download).
browser:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/opentype/noto || { echo "installing Debian's chromium and CJK fonts for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "warning: could not install chromium; the browser tests will fail in CI and be skipped elsewhere"; }

test: model browser
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_search.py
	$(PY) benchmarks/bench_staff.py
	$(PY) benchmarks/bench_bot.py

eval: setup
	$(CLI) kb eval data/eval/longgang-queries.tsv

clean:
	rm -rf $(VENV) var models .pytest_cache
