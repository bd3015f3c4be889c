# PaperLens: `make run` starts everything, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install run test lint format clean bench bench-api

help:
	@echo "make run      start Redis, the store, workers and the API on 127.0.0.1:8000"
	@echo "make test     lint, type-check and run the test suite"
	@echo "make lint     ruff and mypy only"
	@echo "make bench    benchmarks (needs wrk and hey from Debian); results go to bench/RESULTS.md"
	@echo "make clean    remove the virtual environment and local state (var/)"

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "PaperLens needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	$(BIN)/paperlens run

test: lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bench-api

bench-api: install
	@command -v wrk >/dev/null && command -v hey >/dev/null || \
		{ echo "bench-api needs wrk and hey: apt-get install wrk hey"; exit 1; }
	$(BIN)/python -m bench.api_load

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
