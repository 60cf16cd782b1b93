# Neural Playground: `make run` serves the playground, `make test` runs everything,
# `make serve WORKERS=N` runs N worker processes behind nginx (a lecture hall, README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# One BLAS thread a process: the engine's matrices are small, and two threads per process slow
# it several-fold when every core is busy with a worker.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: run serve test test-fast lint bench browser-deps proxy-deps clean

# Debian's own python3 keeps venv in the python3-venv package: install it when missing (as root).
$(BIN)/python:
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { [ "$$(id -u)" = 0 ] && \
	  command -v apt-get >/dev/null && apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; } || true
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	@echo "Neural Playground on http://$(HOST):$(PORT)"
	$(ONE_THREAD) $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --ws-per-message-deflate false

serve: $(VENV)/.installed proxy-deps
	$(ONE_THREAD) $(BIN)/python -m deploy.serve --workers $(WORKERS) --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (Playwright's own browser download cannot be used).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install --no-install-recommends chromium'"; fi; \
	fi

# Debian's nginx for `make serve` and the multi-process tests.
proxy-deps:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; \
	  else echo "nginx missing: run 'sudo apt-get install --no-install-recommends nginx'"; fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: $(VENV)/.installed-dev browser-deps proxy-deps lint
	$(BIN)/pytest -q tests --ignore=tests/browser
	$(BIN)/pytest -q tests/browser

test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest -q tests --ignore=tests/browser

bench: $(VENV)/.installed
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.optimizers
	$(BIN)/python -m bench.stream
	$(BIN)/python -m bench.classroom --clients 25,100 --seconds 30 --mode serve --workers 2
	$(BIN)/python -m bench.bench_layers
	$(BIN)/python -m bench.bench_conv
	$(BIN)/python -m bench.bench_depth
	$(BIN)/python -m bench.bench_selfsupervised
	$(BIN)/python -m bench.bench_scale
	$(BIN)/python -m bench.bench_convnet_stream

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
