# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench clean screenshots

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

## Install Grapevine into .venv, build the demo store (every capability on real data shipped
## in the package) and serve the dashboard on it at http://127.0.0.1:8000/ until Ctrl-C.
demo: $(BIN)/.installed
	$(BIN)/grapevine demo

## Refresh docs/img/*.png: the browser tests' screenshots of every page on the demo store
## (needs Debian's chromium at /usr/bin/chromium).
screenshots: $(BIN)/.installed-dev
	GRAPEVINE_SCREENSHOTS=docs/img $(BIN)/python -m pytest -n 0 -q -p no:cacheprovider \
		tests/test_dashboard_e2e.py -k "renders or 390px or login_wall"

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
