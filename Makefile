# cpex-go: every target sets up what it needs on a fresh machine (Go >= 1.26,
# CPython >= 3.11 with venv, a C compiler).
# PYTHON picks the interpreter: python3 (default), python3.12, 3.13 or a path. One
# virtualenv and one built extension per interpreter, so `make test PYTHON=python3.12`
# leaves the default .venv alone (scripts/find-python.sh also finds pyenv's versions).
PYTHON ?= python3
PYTHON_EXE := $(shell scripts/find-python.sh $(PYTHON))
ifeq ($(PYTHON_EXE),)
$(error no interpreter for PYTHON=$(PYTHON), see the message above)
endif
PYVER  := $(shell $(PYTHON_EXE) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV   := $(if $(filter python3,$(PYTHON)),.venv,.venv-py$(PYVER))
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
GO     ?= go
# Build the extension into the source tree (python/cpex/_native) and test the checkout.
NATIVE_STAMP := python/cpex/_native/.built-py$(PYVER)
GO_SOURCES   := $(shell find core pybind internal proto -name '*.go' -not -name '*_test.go' 2>/dev/null) core/VERSION go.mod go.sum

.PHONY: setup build demo lint test test-go test-py test-interop test-pydantic-range wheel wheels sdist clean

$(VENV)/.ready: pyproject.toml requirements-dev.txt
	$(PYTHON_EXE) -m venv $(VENV)
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

# mypy and ruff read their configuration from pyproject.toml ([tool.mypy], [tool.ruff]).
# Neither needs the built extension (see the cpex._native/_version overrides). mypy checks
# the package; ruff the package, the tests and the benchmarks.
lint: setup
	$(PY) -m ruff check python/cpex tests/py bench
	$(PY) -m mypy
	@# Go sources as gofmt writes them (the cookiecutter templates are not Go until rendered)
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '{{')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: lint test-go test-py

# The models and driver fast-path tests under the lowest and the highest pydantic that
# pyproject.toml admits, each in a throwaway venv, with construction timings (not part of
# `make test`: it installs two venvs from the package index).
test-pydantic-range: build
	scripts/check-pydantic-range.sh $(PYTHON_EXE)

# External plugins, both directions, against upstream from PyPI, each in its own
# .venv-interop-<version> (made on first run; needs `go` for the Go server): our MCP client
# against upstream's MCP server runtime and upstream's clients against ours (0.1.4 with
# mcp 2.x, 0.1.3 with mcp 1.x); our gRPC (TCP, UDS, mTLS) and Unix-socket clients against
# upstream 0.1.4's runtimes and upstream's clients against our Go cpex-plugin-server; our
# isolated_venv host against upstream 0.1.4's worker (its plugin venv is cached in
# .venv-interop-isolated/) and upstream's host against our worker.
test-interop: build
	PYTHONPATH=python $(PY) -m pytest -q -p no:cacheprovider tests/interop

wheel: $(VENV)/.ready
	rm -rf dist
	$(PY) -m pip wheel --no-deps -w dist .
	@ls -l dist

# One auditwheel-repaired manylinux wheel per CPython minor, each smoke-tested without Go.
WHEEL_PYTHONS ?= 3.11 3.12 3.13
wheels:
	scripts/build-wheels.sh $(WHEEL_PYTHONS)

sdist: $(VENV)/.ready
	$(PIP) install -q build
	$(PY) -m build --sdist --outdir dist .

# make bench / make bench-quick (bench/bench.mk): side by side with upstream cpex 0.1.4.
-include bench/bench.mk

clean:
	rm -rf build dist $(VENV) python/cpex/_native python/*.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Regenerates proto/cpexpb from proto/plugin_service.proto (protoc from PyPI's
# grpcio-tools, the Go plugins from go.mod's tool lines); the generated code is committed.
.PHONY: proto
proto:
	scripts/gen-proto.sh
