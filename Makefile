# PaperLens: `make run` starts everything, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
EXCLUDED := requirements/excluded.txt
stamp_of = $(VENV)/.$(1)-$(shell cat pyproject.toml $(2) | cksum | cut -d' ' -f1)
RUNTIME_STAMP := $(call stamp_of,runtime,$(RUNTIME_LOCK))
DEV_STAMP := $(call stamp_of,dev,$(DEV_LOCK))
# npm's tools (web-ext, ESLint, Prettier) as package-lock.json pins them.
NPM_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install install-dev install-reference run test lint format clean bench bench-api bench-soak bench-precompute bench-ann bench-chaos bench-cluster lock audit test-js extension bench-quality bench-suggestions bench-encode bench-hybrid-ann bench-memory bench-build-memory bench-increment bench-inverted-lists

help:
	@echo "make run      start Redis, the store, workers and the API on 127.0.0.1:8000"
	@echo "              (installs requirements/runtime.lock only: no compiler, no torch)"
	@echo "make test     lint, type-check and run the test suite (adds requirements/dev.lock)"
	@echo "make lint     ruff, mypy, the import layers (lint-imports), ESLint and Prettier only"
	@echo "make bench    benchmarks (needs wrk and hey from Debian); results go to bench/RESULTS.md"
	@echo "make bench-suggestions  per-reader suggestion time and recall at SIZE papers (100000)"
	@echo "make bench-increment  BASE papers indexed (100000), NEW ingested (20000): the update end to end"
	@echo "make bench-build-memory  peak memory of the index build of SIZE papers (100000), step by step; VECTORS=tiled where none were encoded at that size"
	@echo "make bench-memory  PSS and RSS of two workers holding the index of SIZE papers (100000), by mapping; INDEX= measures a saved index (CORPUS= its corpus)"
	@echo "make bench-hybrid-ann  the hybrid's approximate related lists against exact ones at SIZE papers"
	@echo "make bench-inverted-lists  reading the TF-IDF columns a chunk's search needs, as kept at scale, against float32 slicing"
	@echo "make bench-chaos  kill parts of make run under traffic; appends bench/RESULTS.md"
	@echo "make bench-cluster  2 APIs, 3 workers, the scheduler on PostgreSQL + Redis, 20,000 papers"
	@echo "make lock     re-resolve requirements/*.lock (with hashes) from pyproject.toml"
	@echo "make audit    known vulnerabilities in the locked dependencies (needs internet)"
	@echo "make extension  build the browser extension's Chrome and Firefox zips (build/extension/)"
	@echo "make clean    remove the virtual environment and local state (var/)"
	@echo "make bench-quality  related papers on CSFCube (PAPERLENS_CSFCUBE_DIR); appends bench/RESULTS.md"
	@echo "              (adds the torch reference, the 'reference' extra, to the venv)"
	@echo "make bench-encode  papers/s of the served encoder, its baseline and the options measured, with their CSFCube quality; appends bench/RESULTS.md"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "PaperLens needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# A lock holds every package to install, each with its hashes, except those named in
# requirements/excluded.txt (declared by a package, never imported here). So pip installs
# exactly the lock (--no-deps), and scripts/check_install.py then fails the install if
# anything else is missing. The runtime lock is installed from wheels only (--only-binary:
# nothing is built, no compiler needed); the dev lock prefers wheels, as a few test tools
# (Firefox's marionette-driver family) publish pure-Python sources only.
# --no-compile: Python compiles the modules it imports on first use instead of every module
# at install (about 110 MB less in .venv: most of scipy, sympy and onnx is never imported).
define install_lock
	$(BIN)/pip install --quiet --no-deps --no-compile $(2) --require-hashes -r $(1)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python scripts/check_install.py
endef

# What `make run` needs, and nothing else.
$(RUNTIME_STAMP): | $(BIN)/python
	$(call install_lock,$(RUNTIME_LOCK),--only-binary :all:)
	rm -f $(VENV)/.runtime-* $(VENV)/.installed-*
	touch $@

# Test, lint and benchmark tools on top: the runtime lock's packages are at the dev lock's
# versions (see `lock`), so a venv made by `make run` and then `make test` serves as before.
$(DEV_STAMP): $(RUNTIME_STAMP)
	$(call install_lock,$(DEV_LOCK),--prefer-binary)
	rm -f $(VENV)/.dev-*
	touch $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

# The torch reference (sentence-transformers, torch, transformers) that tests compare the
# served encoder with; not hash-locked, as pip takes torch's CPU build from the machine's
# wheels where it has them. `make clean install` returns to a venv without it.
install-reference: install-dev
	$(BIN)/pip install --quiet -e '.[reference]'

run: install
	$(BIN)/paperlens run

test: lint test-js extension
	$(BIN)/pytest

# The extension's JavaScript, CSS, HTML and JSON: ESLint and Prettier, pinned in package.json.
PRETTIER_FILES := extension scripts/*.mjs package.json eslint.config.js .prettierrc.json

lint: install-dev $(NPM_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	npx eslint extension scripts
	npx prettier --check $(PRETTIER_FILES)

bench: bench-api bench-precompute bench-ann bench-soak

bench-api: install-dev
	@command -v wrk >/dev/null && command -v hey >/dev/null || \
		{ echo "bench-api needs wrk and hey: apt-get install wrk hey"; exit 1; }
	$(BIN)/python -m bench.api_load

bench-precompute: install-dev
	$(BIN)/python -m bench.precompute --sizes $(or $(SIZES),10000)

bench-ann: install-dev
	$(BIN)/python -m bench.ann --size $(or $(SIZE),100000)

# The hybrid's related lists at scale against exact ones on SIZE papers (100000); the dense
# vectors are encoded once (niced) and cached under var/bench/.
bench-hybrid-ann: install-dev
	nice -n 10 $(BIN)/python -m bench.hybrid_ann --size $(or $(SIZE),100000) --encode-only
	$(BIN)/python -m bench.hybrid_ann --size $(or $(SIZE),100000)

# Per-reader suggestions on a synthetic index of SIZE papers: worker time and recall.
bench-suggestions: install-dev
	$(BIN)/python -m bench.suggestions --size $(or $(SIZE),100000) $(if $(INDEX),--index $(INDEX))

bench-increment: install-dev
	$(BIN)/python -m bench.increment --base $(or $(BASE),100000) --new $(or $(NEW),20000)

# Kills a random part of `make run` every 30-60 s under traffic; SECONDS=600 by default.
# INDEX names a saved index to measure (read only) instead of var/bench's, CORPUS its corpus.
bench-inverted-lists: install-dev
	$(BIN)/python -m bench.inverted_lists --size $(or $(SIZE),100000)

bench-build-memory: install-dev
	$(BIN)/python -m bench.build_memory --size $(or $(SIZE),100000) --vectors $(or $(VECTORS),encoded)

bench-memory: install-dev
	$(BIN)/python -m bench.memory --size $(or $(SIZE),100000) $(if $(INDEX),--index $(INDEX)) \
		$(if $(CORPUS),--corpus $(CORPUS))

bench-chaos: install-dev
	$(BIN)/python -m bench.chaos --seconds $(or $(SECONDS),600)

# Two APIs, three workers and the scheduler on this machine's PostgreSQL and Redis, a worker and
# an API killed mid-precompute (PAPERS=20000; the database and Redis db are emptied).
bench-cluster: install-dev
	$(BIN)/python -m bench.cluster --papers $(or $(PAPERS),20000) \
		--database-url $(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/pl_cluster) \
		--redis-url $(or $(REDIS_URL),redis://127.0.0.1:6379/7)

bench-soak: install-dev
	@command -v hey >/dev/null || { echo "bench-soak needs hey: apt-get install hey"; exit 1; }
	$(BIN)/python -m bench.soak

# uv comes with the dev lock; no install check here, since a pyproject that has just gained
# a dependency is what `make lock` is for.
$(BIN)/uv: | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --prefer-binary --require-hashes -r $(DEV_LOCK)

lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --excludes $(EXCLUDED) --generate-hashes \
		--python-version 3.11 --quiet --custom-compile-command "make lock" -o $(DEV_LOCK)
	@# The runtime lock is held to the dev lock's versions (-c), so `make test` after
	@# `make run` adds packages but changes none.
	$(BIN)/uv pip compile pyproject.toml --excludes $(EXCLUDED) -c $(DEV_LOCK) --generate-hashes \
		--python-version 3.11 --quiet --custom-compile-command "make lock" -o $(RUNTIME_LOCK)

audit: install-dev
	$(BIN)/python scripts/audit.py

format: install-dev $(NPM_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	npx prettier --write $(PRETTIER_FILES)

clean:
	rm -rf $(VENV) var

# ---- the browser extension (extension/): Node's test runner, web-ext from npm
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

# Quality of related papers on CSFCube, beside the torch reference (installed first).
bench-quality: install-reference
	$(BIN)/python -m bench.quality

bench-encode: install-dev
	$(BIN)/python -m bench.encode
