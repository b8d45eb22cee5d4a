# Two commands matter: `make book` (set up, build the site) and `make test` (set up, run every check).
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The offline data mirror, when one sits beside the checkout (development and CI machines).
MIRROR := $(abspath ../shared/data)
# It holds only the test split of KMNIST and notMNIST: accept the test-split-only protocol.
ifneq ($(wildcard $(MIRROR)),)
export AEBOOK_DATA ?= $(MIRROR)
export AEBOOK_ALLOW_TEST_SPLIT_ONLY ?= 1
endif
QUIET_PIP := { grep -v "WARNING: Location" || true; }

.PHONY: book test execute bench browser clean

$(STAMP): requirements.txt constraints-book.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the book's requirements into $(VENV) (first time: a few minutes)..."
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt \
	  -c constraints-book.txt 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | $(QUIET_PIP)
	@touch $@

## book: build the static site from the committed, executed notebooks (never trains).
book: $(STAMP)
	$(BIN)/python -m tools.report results book/results.md
	$(BIN)/python -m tools.bench --page results book/bench_tables.md
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html"

## test: build the site, then unit tests, site and browser checks, every notebook in the quick profile.
## runs/ (what the chapters write: projector files, command-line runs) starts afresh each time.
test: book browser
	rm -rf runs
	AEBOOK_PROFILE=quick $(BIN)/python -m pytest -n 2 --dist loadscope --nbval-lax --durations=15 \
	  tests notebooks

## execute: re-run every notebook in place in the full profile (their outputs are what is published).
## MPLBACKEND is dropped so that the kernels draw inline figures (Agg would leave the pages blank).
execute: $(STAMP)
	@for nb in notebooks/[0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  env -u MPLBACKEND AEBOOK_PROFILE=full $(BIN)/jupyter execute --inplace --timeout=-1 "$$nb"; \
	done

## bench: time seed-style training against the book's pipeline, then every chapter in the quick
## profile, on this machine; writes results/bench-<device>.json (BENCH_ARGS: see --help).
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

## browser: Debian's Chromium for the browser checks (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser checks..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	  || echo "WARNING: could not install chromium; the browser checks will be skipped"; }

clean:
	rm -rf _build .pytest_cache
