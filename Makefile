# exzarr: `make demo` runs the main job, `make test` the whole suite. Both bootstrap
# .venv (and the npm test servers) on first use and are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := .node/.installed
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba-cache

.PHONY: demo test bench bench-quick venv clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,cloud,test-cloud,snappy]"
	touch $(STAMP)

$(NODE_STAMP):
	mkdir -p .node
	npm install --silent --no-audit --no-fund --prefix .node azurite@3.35.0 s3rver@3.7.1
	touch $(NODE_STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m exzarr demo

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/run.py

bench-quick: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/run.py --quick

clean:
	rm -rf $(VENV) .node .numba-cache
