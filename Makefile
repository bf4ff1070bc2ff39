# Two commands a newcomer needs (see README): `make report` and `make test`.
# Both create .venv if absent and install the pinned environment first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/raw/example

.PHONY: setup report test bench lab lock example clean-derived help

help:
	@echo "make report   set up .venv and run the main job on $(DATA)"
	@echo "make test     set up .venv and run the whole test suite"
	@echo "make bench    speed benchmarks (bench/)"
	@echo "make lab      JupyterLab with the project's kernel"
	@echo "make example  regenerate the synthetic example in data/raw/example"
	@echo "make lock     re-lock requirements.txt from requirements.in"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if v[:2]==(3,11) else "Python 3.11 is needed (found %d.%d); run: make PYTHON=python3.11 ..." % v[:2])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

report: setup
	$(BIN)/python -m analysis report $(DATA)

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_tables.py

lab: setup
	$(BIN)/python -m ipykernel install --user --name sfpd-analysis --display-name "SFPD analysis (.venv)"
	$(BIN)/jupyter lab notebooks/

example: setup
	$(BIN)/python -m analysis synth --out data/raw/example

lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^sfpd-vice-svu-analysis' > requirements.txt

clean-derived:
	find data/derived -mindepth 1 ! -name README.md -delete
