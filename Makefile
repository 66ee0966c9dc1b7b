# Two commands on a fresh machine (Python 3.11+): `make run` and `make test`. Both build .venv from the project's
# own files first; `make test` runs ruff, mypy, `gateway check-menus` and pytest. TEST_REDIS_URL points the tests at
# an existing Redis; unset, they start the embedded one.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check-menus audio espeak bench-ussd bench-broadcast clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) audio
	$(BIN)/gateway run

test: $(STAMP) browser audio
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/gateway check-menus
	$(BIN)/pytest

# The console's browser tests drive Debian's Chromium (Playwright's own download does not work everywhere).
# Found on PATH, or named by CHROMIUM; otherwise installed with apt-get when we are root.
browser:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium for the console's browser tests (apt-get install chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; \
	else echo "Chromium not found: install the chromium package (or set CHROMIUM) to run the browser tests."; fi
# Voice prompts in every language (gateway/voice/): only what changed since the last build is made again.
audio: $(STAMP) espeak
	$(BIN)/gateway build-audio

# espeak-ng speaks the prompts no one has recorded; Debian's package, installed when missing and we are root.
espeak:
	@command -v espeak-ng >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq espeak-ng >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq espeak-ng; }; \
	  else echo "espeak-ng is missing: install it (apt-get install espeak-ng) or record every prompt"; exit 1; fi; }

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
