# PaperLens: `make run` starts everything, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install install-embeddings run test lint format clean bench bench-api bench-soak bench-precompute bench-ann bench-chaos lock audit test-js extension bench-quality

help:
	@echo "make run      start Redis, the store, workers and the API on 127.0.0.1:8000"
	@echo "make test     lint, type-check and run the test suite"
	@echo "make lint     ruff and mypy only"
	@echo "make bench    benchmarks (needs wrk and hey from Debian); results go to bench/RESULTS.md"
	@echo "make bench-chaos  kill parts of make run under traffic; appends bench/RESULTS.md"
	@echo "make lock     re-resolve requirements/*.lock (with hashes) from pyproject.toml"
	@echo "make audit    known vulnerabilities in the locked dependencies (needs internet)"
	@echo "make extension  build the browser extension's Chrome and Firefox zips (build/extension/)"
	@echo "make clean    remove the virtual environment and local state (var/)"
	@echo "make bench-quality  related papers on CSFCube (PAPERLENS_CSFCUBE_DIR); appends bench/RESULTS.md"

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "PaperLens needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	$(BIN)/paperlens run

test: lint test-js extension
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bench-api bench-precompute bench-ann bench-soak

bench-api: install
	@command -v wrk >/dev/null && command -v hey >/dev/null || \
		{ echo "bench-api needs wrk and hey: apt-get install wrk hey"; exit 1; }
	$(BIN)/python -m bench.api_load

bench-precompute: install
	$(BIN)/python -m bench.precompute --sizes $(or $(SIZES),10000)

bench-ann: install
	$(BIN)/python -m bench.ann --size $(or $(SIZE),100000)

# Kills a random part of `make run` every 30-60 s under traffic; SECONDS=600 by default.
bench-chaos: install
	$(BIN)/python -m bench.chaos --seconds $(or $(SECONDS),600)

bench-soak: install
	@command -v hey >/dev/null || { echo "bench-soak needs hey: apt-get install hey"; exit 1; }
	$(BIN)/python -m bench.soak

lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--quiet --custom-compile-command "make lock" -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		--quiet --custom-compile-command "make lock" -o requirements/runtime.lock

audit: install
	$(BIN)/python scripts/audit.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var

# ---- the browser extension (extension/): Node's test runner, web-ext from npm
NPM_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
EXTENSION_BUILD := build/extension
EXTENSION_VERSION = $(shell node -p 'require("./extension/manifest.json").version')

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-js:
	node --test extension/tests/

extension: $(NPM_STAMP)
	node scripts/build-extension.mjs $(EXTENSION_BUILD)
	npx web-ext lint --source-dir $(EXTENSION_BUILD)/firefox --self-hosted
	npx web-ext build --source-dir $(EXTENSION_BUILD)/chrome --artifacts-dir $(EXTENSION_BUILD) \
		--filename paperlens-chrome-$(EXTENSION_VERSION).zip --overwrite-dest
	npx web-ext build --source-dir $(EXTENSION_BUILD)/firefox --artifacts-dir $(EXTENSION_BUILD) \
		--filename paperlens-firefox-$(EXTENSION_VERSION).zip --overwrite-dest

# The optional embeddings extra (dense and hybrid rankers); its tests skip without it.
install-embeddings: install
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'

# Quality of related papers on CSFCube; installs the optional embeddings extra first.
bench-quality: install-embeddings
	$(BIN)/python -m bench.quality
