# Two commands on a fresh machine (Python 3.11+): `make run` and `make test`. Both build .venv from the project's
# own files first; `make test` runs ruff, mypy, `gateway check-menus` and pytest. TEST_REDIS_URL points the tests at
# an existing Redis; unset, they start the embedded one.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check-menus bench-ussd bench-broadcast clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/gateway check-menus
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check-menus: $(STAMP)
	$(BIN)/gateway check-menus

bench-ussd: $(STAMP)
	$(BIN)/python bench/ussd_load.py

bench-broadcast: $(STAMP)
	$(BIN)/python bench/broadcast_scale.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
