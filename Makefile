# mktsales — `make run` serves the app, `make test` runs every test. Needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     ?= data/mktsales.duckdb
PORT   ?= 8501
# Only this machine by default; HOST=0.0.0.0 serves the network (behind an HTTPS proxy only:
# docs/security/server.md). ERRORS=full shows Python tracebacks in the page (development).
HOST   ?= 127.0.0.1
ERRORS ?= none

.PHONY: run test test-fast lint format demo bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: serve the app on http://localhost:$(PORT) (creates a demo database if none exists)
run: $(VENV)/.installed
	MKTSALES_DB=$(DB) $(PY) -m streamlit run serve.py --server.address=$(HOST) --server.port=$(PORT) \
		--client.showErrorDetails=$(ERRORS) --browser.gatherUsageStats=false

## test: install what tests need and run every test, browser tests included
test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest -q

## test-fast: every test but the browser ones
test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -q -m "not browser"

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: $(VENV)/.dev-installed
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

## demo: (re)build the demo database at $(DB)
demo: $(VENV)/.installed
	$(PY) -m mktsales demo --db $(DB) --replace

## bench: the benchmark suite at ten million activities (builds its demo database once, ~1 min;
## then ~10 min); writes bench/results/latest.json. BENCH_ARGS="--sizes 1000000,10000000" for both.
BENCH_ARGS ?= --activities 10000000
bench: $(VENV)/.dev-installed
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
