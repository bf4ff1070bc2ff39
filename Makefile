# Two commands a newcomer needs (see README): `make report` and `make test`.
# Both make .venv if needed and install the pinned environment (requirements.txt) first.
#
# .venv is made with $(PYTHON): python3 unless you pass another, e.g. `make PYTHON=python3.12 test`.
# It is removed and made again from scratch when
#   - you pass PYTHON= and it is another interpreter than the one .venv was made with,
#   - the last install into it did not finish (the stamp .venv/.installed is written only after a full install),
#   - its own python no longer runs, or is a version outside PY_VERSIONS.
# Without PYTHON=, a complete .venv is kept, whichever supported Python made it.
PYTHON ?= python3
SELF   := $(abspath $(firstword $(MAKEFILE_LIST)))
PYTHON_GIVEN := $(if $(filter command environment override,$(origin PYTHON)),yes,no)
# The Python versions supported; pyproject.toml's requires-python says the same (tests/test_environment.py checks).
PY_VERSIONS := 3.11 3.12 3.13
PY_MIN := $(firstword $(PY_VERSIONS))
PY_MAX := $(lastword $(PY_VERSIONS))
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/raw/example
# The test suite on every logical core (pytest-xdist), each test module on one worker so that a module's
# expensive fixtures (a whole report run) are made once. `make test PYTEST_PARALLEL=` runs it in one process.
PYTEST_PARALLEL ?= -n logical --dist loadscope
# What to suggest re-running in messages (the goals of the outermost make).
export USER_GOALS ?= $(or $(MAKECMDGOALS),test)
PIP    := $(BIN)/python -m pip --disable-pip-version-check
# make lock / lock-check only: the resolver that writes requirements.txt for every supported Python at once.
UV     := uv==0.13.9
# The lock must install from wheels on each of these (Linux, glibc 2.28 or newer: Debian 10+, Ubuntu 20.04+, RHEL 8+).
LOCK_PLATFORMS := x86_64-manylinux_2_28 aarch64-manylinux_2_28
# Pure-Python packages published as source only: built on install, so exempt from the wheel check.
LOCK_SDIST_ONLY := odfpy

.PHONY: setup check-python venv-check _install report test test-fast bench lab lock lock-check example clean clean-derived help

help:
	@echo "make report         set up .venv and run the main job on $(DATA)"
	@echo "make test           set up .venv and run the whole test suite"
	@echo "make bench          speed benchmarks (bench/)"
	@echo "make lab            JupyterLab with the project's kernel"
	@echo "make example        regenerate the synthetic example in data/raw/example"
	@echo "make lock           re-lock requirements.txt from requirements.in (Python $(PY_MIN) to $(PY_MAX)), then lock-check"
	@echo "make lock-check     check that requirements.txt installs from wheels on every supported Python"
	@echo "make clean          remove .venv, caches and build files (never reports/ or data/)"
	@echo "make clean-derived  empty data/derived/ (keeps its README)"
	@echo "Another interpreter: make PYTHON=python3.12 test   (supported: Python $(PY_MIN) to $(PY_MAX))"

# Prints an interpreter's version and installation, e.g. "3.11.2 /usr". A venv's python prints the same as
# the interpreter the venv was made from.
PY_ID := import os, sys; print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(sys.base_prefix))

# Exits non-zero with a message unless the interpreter is a supported version and can make a venv.
define PY_CHECK
import sys
v = sys.version_info
ok = [tuple(int(p) for p in s.split(".")) for s in "$(PY_VERSIONS)".split()]
if tuple(v[:2]) not in ok:
    sys.exit("Python $(PY_MIN) to $(PY_MAX) is needed, but $(PYTHON) is Python %d.%d.%d (%s).\n"
             "Pass another interpreter, e.g.: make PYTHON=python3.12 $(USER_GOALS)" % (v[0], v[1], v[2], sys.executable))
try:
    import ensurepip, venv
except ImportError:
    sys.exit("$(PYTHON) (Python %d.%d.%d, %s) cannot make a virtual environment: it has no venv/ensurepip module.\n"
             "On Debian or Ubuntu install it with: apt-get install python3-venv   (for a python3.X that is not the\n"
             "system's default python3: apt-get install python3.X-venv)" % (v[0], v[1], v[2], sys.executable))
endef
export PY_CHECK

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "$(PYTHON) was not found. Pass another interpreter (Python $(PY_MIN) to $(PY_MAX)), e.g.: make PYTHON=python3.12 $(USER_GOALS)" >&2; \
	  exit 1; }
	@$(PYTHON) -c "$$PY_CHECK"

# Removes .venv (saying why) when it must be made again; see the top of this file.
venv-check:
	@if [ $(PYTHON_GIVEN) = yes ]; then $(MAKE) --no-print-directory -f $(SELF) check-python || exit 1; fi; \
	if [ -e $(VENV) ]; then \
	  have=$$($(BIN)/python -c '$(PY_ID)' 2>/dev/null) || have=; \
	  minor=$$(echo "$$have" | cut -d. -f1,2); \
	  if [ -z "$$have" ]; then why="its python does not run"; \
	  elif [ ! -f $(STAMP) ]; then why="its last install did not finish"; \
	  elif ! echo " $(PY_VERSIONS) " | grep -qF " $$minor "; then \
	    why="it has Python $${have%% *}, outside $(PY_MIN) to $(PY_MAX)"; \
	  elif [ $(PYTHON_GIVEN) = yes ] && [ "$$have" != "$$($(PYTHON) -c '$(PY_ID)')" ]; then \
	    why="it was made with Python $$have, not $(PYTHON) (Python $$($(PYTHON) -c '$(PY_ID)'))"; \
	  else why=; fi; \
	  if [ -n "$$why" ]; then echo "Removing $(VENV) to make it again: $$why."; rm -rf $(VENV); fi; \
	fi

# venv-check must finish before make looks at the stamp, hence the second make. Then the package's bytecode is
# brought up to date (only changed modules are compiled): pip compiles what it installs, but not an editable
# install, and where PYTHONDONTWRITEBYTECODE is set (many containers and CI images) Python never writes it, so
# every command, test worker and notebook kernel compiled the package from source again (0.1-0.4 s of CPU each).
setup: venv-check
	@$(MAKE) --no-print-directory -f $(SELF) _install
	@$(BIN)/python -m compileall -q src/analysis >/dev/null || true

_install: $(STAMP)
	@:

$(STAMP): requirements.txt pyproject.toml
	@rm -f $(STAMP)
	@if [ ! -x $(BIN)/python ]; then \
	  $(MAKE) --no-print-directory -f $(SELF) check-python && \
	  echo "Making $(VENV) with $(PYTHON) (Python $$($(PYTHON) -c '$(PY_ID)'))" && \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }; \
	fi
	@echo "Installing the pinned environment into $(VENV) (a minute or two the first time)"
	$(PIP) install --quiet pip==25.3
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $(STAMP)

report: setup
	$(BIN)/python -m analysis report $(DATA)

# pytest keeps its rewritten test modules as bytecode only where Python may write bytecode: with
# PYTHONDONTWRITEBYTECODE set, each worker rewrote and compiled every test module again (3-5 s of collecting per
# worker). The suite writes them (into tests/__pycache__, ignored by git) whatever the environment says.
test: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: setup  ## the fast loop: every test but those marked slow (notebooks, the report, hostile arguments)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

# Speed benchmarks (never timed tests): each figure with its baseline and ratio, the minimum and median of 3
# runs, and peak memory; results also in bench/results/*.json. 15-20 minutes on 2 cores; the first run also
# makes the synthetic samples and the 2.1M-row public file under bench/results/ (git-ignored). The public
# benchmark needs the shared SFPD folder (ANALYSIS_SFPD_DIR) and duckdb (in requirements.txt); it runs last
# and says why when it cannot run.
bench: setup
	$(BIN)/python bench/bench_pipeline.py --report-100x
	$(BIN)/python bench/bench_tables.py
	$(BIN)/python bench/bench_reliability.py
	$(BIN)/python bench/bench_public.py
	$(BIN)/python bench/bench_weighted.py
	$(BIN)/python bench/bench_disclosure.py

lab: setup
	$(BIN)/python -m ipykernel install --user --name sfpd-analysis --display-name "SFPD analysis (.venv)"
	$(BIN)/jupyter lab notebooks/

example: setup
	$(BIN)/python -m analysis synth --out data/raw/example

# One lock for every supported Python: resolved for Python $(PY_MIN).0 and up. --universal adds environment
# markers where a dependency is needed only on some Pythons or platforms; --fork-strategy fewest picks one
# version of each package for all Pythons (e.g. soupsieve 2.10, as 3.0+ needs Python 3.11.5). Versions already
# in requirements.txt are kept where they still fit; delete a line to let it move. Needs PyPI.
lock: setup
	$(PIP) install --quiet $(UV)
	$(BIN)/python -m uv pip compile requirements.in --universal --fork-strategy fewest --python-version $(PY_MIN).0 \
	  --no-header --no-annotate --quiet -o requirements.txt
	@$(MAKE) --no-print-directory -f $(SELF) lock-check

# For each supported Python (at its .0 release) and platform: every pin has a wheel (except LOCK_SDIST_ONLY),
# allows that Python (Requires-Python), and the lock is complete (nothing unpinned gets pulled in).
# name==version lines with the name normalised (PEP 503: lower case, runs of -_. as one -).
NORM_PINS := awk -F'==' '{ n = tolower($$1); gsub(/[-_.]+/, "-", n); print n "==" $$2 }'

lock-check: setup
	$(PIP) install --quiet $(UV)
	@sed 's/ *;.*//' requirements.txt | grep '==' | $(NORM_PINS) > $(VENV)/lock-pins.txt; \
	for v in $(PY_VERSIONS); do for p in $(LOCK_PLATFORMS); do \
	  printf 'lock-check: Python %s.0 on %s ... ' $$v $$p; \
	  $(BIN)/python -m uv pip compile requirements.txt --python-version $$v.0 --python-platform $$p \
	    --only-binary :all: $(addprefix --no-binary ,$(LOCK_SDIST_ONLY)) --no-header --no-annotate --quiet \
	    -o $(VENV)/lock-check.txt || exit 1; \
	  extra=$$(grep '==' $(VENV)/lock-check.txt | $(NORM_PINS) | grep -vxFf $(VENV)/lock-pins.txt); \
	  if [ -n "$$extra" ]; then echo; echo "not in requirements.txt: $$extra" >&2; exit 1; fi; \
	  echo ok; \
	done; done

# Generated files only. reports/, data/ (including data/derived/) and bench/results/ may hold real work
# and are never touched here; `make clean-derived` empties data/derived/ when you mean it.
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist
	find . \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +

clean-derived:
	find data/derived -mindepth 1 ! -name README.md -delete
