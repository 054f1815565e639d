# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(BIN)/.installed

## Install Grapevine into .venv and run the demo on the shipped Higgs Twitter slice.
demo: $(BIN)/.installed
	$(BIN)/grapevine demo

## Install with the dev tools and run the whole suite: lint, types, layers, every test.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## The same without the tests marked slow.
test-fast: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

## Run the benchmarks (minutes; writes tables to benchmarks/results/).
bench: $(BIN)/.installed-dev
	$(BIN)/python benchmarks/import_throughput.py
	$(BIN)/python benchmarks/graph_load.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache grapevine-demo.db*
