# exzarr: `make demo` runs the main job, `make test` the whole suite. Both bootstrap
# .venv (and the npm test servers) on first use and are idempotent.
#
# CI (.ci/run) = `make ci`: `make test`, then `make test-wheels`, which builds the
# wheel (`make wheel`, dist/) and runs the suite (less WHEEL_SKIP) against that wheel,
# installed NON-editable into fresh venvs on Python 3.12 and 3.13 (`make test-py312`,
# `make test-py313`, side by side).
# Those interpreters are taken from pyenv ($(pyenv root)/versions/3.12.*/bin/python3.12)
# or from PATH; a missing one is an error, unless ALLOW_MISSING_PYTHON=1 (developers only:
# then it is skipped with a warning).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD_STAMP := $(VENV)/.build-installed
NODE_STAMP := .node/.installed
CHROMIUM_STAMP := .node/.chromium-checked
EXTRAS := test,cloud,test-cloud,snappy
# Numba's on-disk cache, one folder per state of src/exzarr/kernels: Numba invalidates a
# cached kernel only when its own file changes, not when a helper it inlines from another
# module does, so a kernel compiled against an older helper would otherwise run on (and
# the tests pass against code that is no longer there).
# (benchmarks/numba_cache.py computes the same key for the benchmark scripts run by hand:
# the files in byte order of their names, whatever the locale)
KERNELS_KEY := $(shell ls src/exzarr/kernels/*.py 2>/dev/null | LC_ALL=C sort | xargs cat | sha1sum | cut -c1-12)
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba-cache/$(KERNELS_KEY)

# What the wheel venvs install (its rule is below, with theirs).
DEPS_KEY := $(VENV)/.wheel-deps-key

# The wheel is rebuilt only when something that goes into it changes.
WHEEL_STAMP := dist/.built
PKG_FILES := pyproject.toml README.md \
	$(shell find src -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -name '*.py[co]' 2>/dev/null)
# Hypothesis profile for the 3.12/3.13 suites (profiles live in tests/conftest.py;
# "default" is the lightest one).
WHEEL_HYPOTHESIS_PROFILE ?= default
# Suites the 3.12/3.13 wheel runs leave out (they run in `make test` on 3.11): each tests
# something outside exzarr's own Python (upstream xarray's backend suite, dask and worker
# processes, kill -9 crash harnesses in subprocesses, hypothesis fuzzing of metadata
# parsing, two S3 servers' protocol quirks) and together they are ~45 % of the suite's
# time; CI must stay well inside 30 minutes. Every other test, the local, memory, zip,
# sqlite, HTTP, GCS and Azure stores and the CLI included, runs on every wheel.
WHEEL_SKIP := tests/integrations/test_xarray_suite.py tests/integrations/test_xarray_processes.py \
	tests/integrations/test_processes.py tests/integrations/test_dask_unaligned.py \
	tests/metadata/test_fuzz.py tests/storage/test_crash.py tests/storage/test_obstore.py \
	tests/storage/test_s3.py
ALLOW_MISSING_PYTHON ?= 0
# Extra pytest arguments for every suite, e.g. PYTEST_ARGS="-x --timeout=120".
PYTEST_ARGS ?=
# Test processes per suite (pytest-xdist): 2 runs the suite in ~60% of the time of one
# here (2 cores); each process starts its own loopback servers. 0 = no worker processes.
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS)

# $(call find_python,3.12): newest pyenv build of that version, else pythonX.Y on PATH if it
# actually runs (pyenv shims refuse versions that are not selected), else nothing.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
find_python = $(or $(shell ls -d $(PYENV_ROOT)/versions/$(1).*/bin/python$(1) 2>/dev/null | sort -V | tail -n 1),$(shell python$(1) -c 'import sys; print(sys.executable)' 2>/dev/null))

.PHONY: numba-cache-dir demo test check bench bench-quick bench-cloud venv clean wheel ci test-wheels test-py312 test-py313 wheel-suite

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

$(NODE_STAMP):
	mkdir -p .node
	npm install --silent --no-audit --no-fund --prefix .node azurite@3.35.0 s3rver@3.7.1
	touch $(NODE_STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m exzarr demo

# `make test` (the README's command) = `make check` on $(PYTHON) in .venv (editable install).
test: check

# check: everything a change must pass. The layer contract (import-linter: layers and no
# import cycles, see pyproject [tool.importlinter]), the types (mypy, pyproject [tool.mypy]),
# the whole suite, then the property tests once more with Numba switched off (the NumPy
# fallbacks of every kernel).
check: $(STAMP) $(NODE_STAMP) $(CHROMIUM_STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy
	$(PY) -m pytest -q $(XDIST) tests $(PYTEST_ARGS)
	EXZARR_JIT=0 $(PY) -m pytest -q $(XDIST) -m property tests $(PYTEST_ARGS)

# Headless Chromium for the screenshot tests of tests/display (Debian's package). When it
# cannot be installed the screenshot tests skip, and say so.
$(CHROMIUM_STAMP):
	@command -v chromium >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; } || \
	  echo "note: chromium could not be installed; tests/display/test_screenshots.py will be skipped"
	@mkdir -p $(dir $@) && touch $@

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/run.py

bench-quick: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/run.py --quick

# The cloud benchmark: the same engines on a local S3 server (moto) behind a counting
# proxy; writes benchmarks/results/cloud.md (see benchmarks/README.md).
bench-cloud: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/cloud.py

# ---------------------------------------------------------------- wheel and CI

ci: test test-wheels

# The two wheel suites run side by side, one pytest process each (their output kept
# apart by --output-sync): one process per suite compiles the Numba kernels and starts the
# loopback servers once rather than once per xdist worker.
test-wheels:
	$(MAKE) --no-print-directory -j2 --output-sync=target test-py312 test-py313 PYTEST_WORKERS=0

$(BUILD_STAMP): $(STAMP)
	$(PY) -m pip install -q "build>=1.2"
	touch $@

# sdist first, then the wheel from the sdist (plain `python -m build`), so a file that
# the sdist or the wheel leaves out makes the wheel suites fail.
$(WHEEL_STAMP): $(PKG_FILES) $(BUILD_STAMP)
	rm -rf dist && mkdir dist
	$(PY) -m build --outdir dist . > dist/build.log 2>&1 || { cat dist/build.log; exit 1; }
	test "$$(ls dist/exzarr-*.whl | wc -l)" -eq 1
	@ls dist/exzarr-*  # (full build output: dist/build.log)
	touch $@

wheel: $(WHEEL_STAMP)

test-py312: PYVER := 3.12
test-py313: PYVER := 3.13
# ($(DEPS_KEY) made here, once: the two suites' sub-makes run side by side and would
# both write it, racing on its temporary file)
test-py312 test-py313: $(WHEEL_STAMP) $(NODE_STAMP) $(DEPS_KEY)
	@py="$(call find_python,$(PYVER))"; \
	if [ -z "$$py" ]; then \
	  msg="Python $(PYVER) not found (looked for $(PYENV_ROOT)/versions/$(PYVER).*/bin/python$(PYVER) and a working python$(PYVER) on PATH); install it, e.g. 'pyenv install $(PYVER)'"; \
	  if [ "$(ALLOW_MISSING_PYTHON)" = 1 ]; then echo "WARNING: $$msg. SKIPPING $@ (ALLOW_MISSING_PYTHON=1)." >&2; exit 0; fi; \
	  echo "ERROR: $$msg. (Developers may skip it with ALLOW_MISSING_PYTHON=1; CI must not.)" >&2; exit 1; \
	fi; \
	echo "$@: using $$py"; \
	v() { "$$1" -c 'import sys; print(sys.version)' 2>/dev/null; }; \
	if [ -e .venv-$(PYVER)/.installed ] && [ "$$(v .venv-$(PYVER)/bin/python)" != "$$(v "$$py")" ]; then \
	  echo "$@: .venv-$(PYVER) was made with another interpreter; remaking it"; rm -f .venv-$(PYVER)/.installed; \
	fi; \
	$(MAKE) --no-print-directory wheel-suite PYVER=$(PYVER) WHEEL_PYBIN="$$py"

# Internal (called by test-py3XX with PYVER and WHEEL_PYBIN): the suite, run from the repo
# root against the installed wheel. PYTHONSAFEPATH keeps the cwd off sys.path, and
# `-o pythonpath=` any pytest `pythonpath` setting, so src/ can never shadow the wheel.
wheel-suite: .venv-$(PYVER)/.installed
	@test -n "$(WHEEL_PYBIN)" || { echo "ERROR: run 'make test-py$(subst .,,$(PYVER))'" >&2; exit 1; }
	cd / && PYTHONSAFEPATH=1 $(CURDIR)/.venv-$(PYVER)/bin/python -c "$$WHEEL_IMPORT_CHECK"
	PYTHONSAFEPATH=1 EXZARR_TEST_WHEEL=1 HYPOTHESIS_PROFILE=$(WHEEL_HYPOTHESIS_PROFILE) \
	  .venv-$(PYVER)/bin/python -m pytest -q $(XDIST) -o pythonpath= tests \
	  $(addprefix --ignore=,$(WHEEL_SKIP)) $(PYTEST_ARGS)

# Asserts that exzarr comes from the venv's site-packages, not from src/ (checked again in
# every pytest process of the suite, at start: EXZARR_TEST_WHEEL in tests/conftest.py).
define WHEEL_IMPORT_CHECK
import sys, sysconfig, exzarr
site = sysconfig.get_paths()["purelib"]
assert exzarr.__file__.startswith(site + "/"), f"exzarr imported from {exzarr.__file__}, not from {site}"
assert "site-packages" in exzarr.__file__, exzarr.__file__
print(f"exzarr {sys.version.split()[0]}: {exzarr.__file__}")
endef
export WHEEL_IMPORT_CHECK

# What the wheel venvs install from pyproject.toml (requires-python, dependencies, the
# extras), rewritten only when that changes: edits elsewhere in pyproject.toml ([tool.*],
# other extras) rebuild the wheel but do not remake the venvs.
$(DEPS_KEY): pyproject.toml $(STAMP)
	@$(PY) -c 'import json, sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	  extras = p.get("optional-dependencies", {}); \
	  print(json.dumps([p.get("requires-python"), p.get("dependencies"), \
	                    {e: extras.get(e) for e in "$(EXTRAS)".split(",")}], sort_keys=True))' > $@.tmp.$$PPID
	@if cmp -s $@.tmp.$$PPID $@; then rm -f $@.tmp.$$PPID; else mv $@.tmp.$$PPID $@; echo "$@: wheel venv dependencies changed"; fi

# A venv per Python version, stamped with the sha256 of the wheel installed in it. Made
# afresh when it is new, when $(DEPS_KEY) (the dependencies) changes or when the
# interpreter changed (test-py3XX drops the stamp then); otherwise only the rebuilt wheel
# is reinstalled over it (same version number, hence --force-reinstall --no-deps).
# Call through test-py3XX, which passes WHEEL_PYBIN.
.venv-%/.installed: $(WHEEL_STAMP) $(DEPS_KEY)
	@test -n "$(WHEEL_PYBIN)" || { echo "ERROR: run 'make test-py$(subst .,,$*)'" >&2; exit 1; }
	@whl=$$(ls dist/exzarr-*.whl); \
	if [ -n "$(filter $(DEPS_KEY),$?)" ] || ! .venv-$*/bin/python -c '' 2>/dev/null; then \
	  set -x; rm -rf .venv-$* && "$(WHEEL_PYBIN)" -m venv .venv-$* \
	  && .venv-$*/bin/python -m pip install -q --upgrade pip \
	  && .venv-$*/bin/python -m pip install -q "$$whl[$(EXTRAS)]" || exit 1; \
	else \
	  set -x; .venv-$*/bin/python -m pip install -q --force-reinstall --no-deps "$$whl" || exit 1; \
	fi; \
	sha256sum "$$whl" > $@

clean:
	rm -rf $(VENV) .node .numba-cache dist .venv-3.12 .venv-3.13

# Numba's cache folder (tests/test_numba_cache_key.py checks that the benchmark scripts
# compute the same one)
numba-cache-dir:
	@echo $(NUMBA_CACHE_DIR)
