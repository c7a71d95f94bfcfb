# Two commands do everything on a fresh machine: `make run` and `make test`.
# The virtual environment is created and refreshed from pyproject.toml on demand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make bench BENCH_SCALE=0.1`: the city is 1 (20,000 sites); generated ledgers are cached in
# .bench-cache/ per scale, seed and generator version.
BENCH_SCALE ?= 1

.PHONY: run test lint typecheck pytest bench schema clean

$(STAMP): pyproject.toml
	@command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || { \
	  echo "durable-rules compiles a C extension: installing a C compiler" >&2; \
	  apt-get update -qq && apt-get install -y -qq build-essential python3-dev >/dev/null; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/inspect-engine tui --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m benchmarks

schema: $(STAMP)
	$(BIN)/inspect-engine packs schema --write

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
