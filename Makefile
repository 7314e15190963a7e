# latentplay: `make demo`, `make test` and `make lab` do all the set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# A CPU build of torch first: pip serves this pin from a local wheel here, while a plain `torch` would pull
# several GB of CUDA packages. Override on a machine with a GPU: make demo TORCH=torch
TORCH ?= torch==2.13.0
# Caches that survive between runs, keyed so that a change invalidates them: rendered corpora and decoded files in
# ~/.cache/latentplay (keyed by content), librosa's compiled numba code beside the virtualenv it was compiled for.
export NUMBA_CACHE_DIR ?= $(abspath $(VENV))/numba-cache
export MPLBACKEND ?= Agg
export PYTHONDONTWRITEBYTECODE := 1
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
WORKERS ?= 2

.PHONY: help setup warm browser demo test lab docs check-sync test-py test-nbs bench clean

help:
	@echo "make demo   set up .venv and render the demo page from the built-in sounds into demo/"
	@echo "make test   set up .venv and run every test: pytest, every notebook, sync and cleanliness checks"
	@echo "make lab    set up .venv and open JupyterLab on the quick-start notebook"
	@echo "make docs   set up .venv and build these pages as a website: _site/index.html (with Quarto: _docs/)"
	@echo "make bench  run the benchmarks in bench/ (JSON on stdout)"

$(STAMP):
	@echo "== setting up $(VENV) (once; re-done when pyproject.toml or this Makefile change)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[lab,dev]"
	$(PY) -m pip install -q --no-deps "tinysoundfont>=0.3"
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)
	@# point the editable install at this checkout (cheap; matters when VENV is shared between clones)
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null

demo: setup
	$(BIN)/latentplay demo --out demo

lab: setup
	$(BIN)/jupyter lab nbs/index.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

# the docs as a website: Quarto's (nbdev-docs, into _docs/) where Quarto is installed, otherwise every notebook
# rendered by nbconvert with its stored outputs into _site/, which opens offline (scripts/build_docs.py)
docs: setup
	@if command -v quarto >/dev/null 2>&1; then $(BIN)/nbdev-docs && echo "open _docs/index.html"; \
	else echo "== Quarto is not installed: rendering the notebooks with nbconvert"; $(PY) scripts/build_docs.py --out _site; fi

# notebooks and library in sync, notebooks clean, README generated from nbs/index.ipynb
check-sync: setup
	$(BIN)/nbdev-export
	@git diff --exit-code --stat -- latentplay && test -z "$$(git status --porcelain -- latentplay)" \
	  || { echo "latentplay/ differs from the notebooks: run nbdev-export and commit"; exit 1; }
	$(BIN)/nbdev-clean
	@git diff --exit-code --stat -- nbs || { echo "notebooks are not clean: run nbdev-clean and commit"; exit 1; }
	$(PY) scripts/make_readme.py --check

# compile librosa's numba code in one process before the parallel runs only read it (see the script)
warm: setup
	$(PY) scripts/warm_numba.py

# tests/test_browser.py plays the widgets in JupyterLab in a real Chromium. Playwright's own browser download needs the
# internet, so the tests drive the distribution's package: install it when it is missing and we can (root, apt-get).
# When we cannot, say so and go on: those tests then skip with that reason, and everything else still runs.
# (LATENTPLAY_CHROMIUM: another Chromium binary, for the tests too)
export LATENTPLAY_CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(LATENTPLAY_CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "== installing chromium for the browser tests (apt-get, once)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	    || echo "!! could not install chromium (apt-get install chromium failed): the browser tests will be skipped"; \
	else echo "!! chromium is not installed (as root: apt-get install chromium): the browser tests will be skipped"; fi

# --dist loadfile: the browser tests share one JupyterLab and one Chromium per module, so the module runs in one worker
# (not `--dist loadgroup` with their xdist_group mark: with pytest 9.2 and xdist 3.8 the group is ignored).
test-py: warm browser
	$(BIN)/pytest -n $(WORKERS) --dist loadfile -q tests

test-nbs: warm
	$(BIN)/nbdev-test --n-workers $(WORKERS) --timing

test: check-sync test-nbs test-py

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b" >&2; $(PY) $$b || exit 1; done

clean:
	rm -rf demo _docs _proc _site .pytest_cache
