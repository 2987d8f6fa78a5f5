# cpex-go: every target sets up what it needs on a fresh machine (Go >= 1.26,
# CPython >= 3.11 with venv, a C compiler).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
GO     ?= go
# Build the extension into the source tree (python/cpex/_native) and test the checkout.
NATIVE_STAMP := python/cpex/_native/.built
GO_SOURCES   := $(shell find core pybind -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

.PHONY: setup build demo test test-go test-py wheel clean

$(VENV)/.ready: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.ready

$(NATIVE_STAMP): $(VENV)/.ready $(GO_SOURCES) setup.py
	$(PY) setup.py develop_ext
	touch $@

build: $(NATIVE_STAMP)

demo: build
	PYTHONPATH=python $(PY) examples/demo.py

test-go:
	@scripts/ensure-redis.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-py: build
	PYTHONPATH=python $(PY) -m pytest -q tests/py

test: test-go test-py

wheel: $(VENV)/.ready
	rm -rf dist
	$(PY) -m pip wheel --no-deps -w dist .
	@ls -l dist

# make bench / make bench-quick (bench/bench.mk): side by side with upstream cpex 0.1.4.
-include bench/bench.mk

clean:
	rm -rf build dist $(VENV) python/cpex/_native python/*.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
