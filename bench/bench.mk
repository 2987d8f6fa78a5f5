# make bench / make bench-quick: cpex-go against upstream cpex 0.1.4, interleaved in one
# run (bench/README.md). Included by the top Makefile, which defines PYTHON, VENV, PY, PIP
# and NATIVE_STAMP. Each target sets up what it needs on a fresh machine:
#   - .venv with our package built ($(NATIVE_STAMP)) plus bench/requirements.txt;
#   - .venv-upstream with cpex==0.1.4 from PyPI plus the same bench requirements.
# make bench also runs bench/gateway_profile.py (the gateway's cProfile gate, both readings)
# on the gateway-shaped config, its Go built-in variant and the 20-plugin chain.
# Extra driver options: make bench BENCH_ARGS="--only S2,S4". Both targets also run
# bench/loopstall.py (ours only: the event-loop stall of Go guards, on and off the loop);
# make bench also bench/external.py (make bench-external: external plugins over MCP).
# Last, bench/readme.py writes the measured blocks of bench/README.md and README.md from
# the results (bench-quick: into bench/results/README-quick.md, never the READMEs).

BENCH_UPSTREAM_VENV := .venv-upstream
BENCH_UPSTREAM_PY   := $(BENCH_UPSTREAM_VENV)/bin/python
BENCH_UPSTREAM_CPEX := cpex==0.1.4
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-setup bench-pdp bench-external bench-isolated bench-transports

$(BENCH_UPSTREAM_VENV)/.ready: bench/requirements.txt bench/requirements-plugins.txt
	$(PYTHON_EXE) -m venv $(BENCH_UPSTREAM_VENV)
	$(BENCH_UPSTREAM_PY) -m pip install -q --upgrade pip
	$(BENCH_UPSTREAM_PY) -m pip install -q "$(BENCH_UPSTREAM_CPEX)" -r bench/requirements.txt
	$(BENCH_UPSTREAM_PY) -m pip install -q --no-deps -r bench/requirements-plugins.txt
	touch $@

$(VENV)/.bench-ready: $(VENV)/.ready bench/requirements.txt bench/requirements-plugins.txt
	$(PIP) install -q -r bench/requirements.txt
	$(PIP) install -q --no-deps -r bench/requirements-plugins.txt
	touch $@

bench-setup: $(NATIVE_STAMP) $(VENV)/.bench-ready $(BENCH_UPSTREAM_VENV)/.ready

bench: bench-setup $(BENCH_UPSTREAM_VENV)/.mcp-ready
	$(PY) bench/run.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY) $(BENCH_ARGS)
	$(PY) bench/gateway_profile.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY)
	$(PY) bench/gateway_profile.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY) \
		--ours-config bench/configs/gateway_profile_builtin.yaml --out bench/results/gateway_profile_builtin
	$(PY) bench/gateway_profile.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY) \
		--config bench/configs/gateway_chain20.yaml --out bench/results/gateway_chain20
	PYTHONPATH=python $(PY) bench/loopstall.py
	$(MAKE) bench-pdp
	$(PY) bench/external.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY)
	$(MAKE) bench-isolated
	$(MAKE) bench-transports
	$(PY) bench/readme.py

# isolated_venv: one no-op plugin, 1 and 64 callers, our Go host against upstream's host
# on the same venv and worker, and our host with our worker (bench/isolated.py). The
# plugin venvs are cached in bench/results/.isolated/ (the first run installs cpex 0.1.4
# into one of them from PyPI).
bench-isolated: $(NATIVE_STAMP) $(BENCH_UPSTREAM_VENV)/.ready
	$(PY) bench/isolated.py --ours-python $(PY) --upstream-python $(BENCH_UPSTREAM_PY)

# The embedded policy engines against the same decision over HTTP to a local
# OPA-compatible stub: decisions/s and p99 per engine (core/builtins/pdp_bench_test.go,
# core/builtins/pdprego).
PDP_BENCHTIME ?= 3s
bench-pdp:
	$(GO) test ./core/builtins ./core/builtins/pdprego -run '^$$' -bench 'PDP' -benchtime=$(PDP_BENCHTIME)

# External plugins over MCP (bench/external.py): calls/s and p50/p99 per transport (stdio,
# streamable HTTP, Unix socket), 1 and 32 callers, ours against upstream 0.1.4 client and
# runtime (which needs the Python MCP SDK 2.x in the upstream venv), plus our client
# against the Go-only server (examples/mcp-server). make bench runs it too.
$(BENCH_UPSTREAM_VENV)/.mcp-ready: $(BENCH_UPSTREAM_VENV)/.ready
	$(BENCH_UPSTREAM_PY) -m pip install -q "mcp>=2"
	touch $@

bench-external: bench-setup $(BENCH_UPSTREAM_VENV)/.mcp-ready
	$(PY) bench/external.py --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY) $(EXTERNAL_ARGS)
	$(PY) bench/readme.py

bench-quick: bench-setup
	$(PY) bench/run.py --quick --upstream-python $(BENCH_UPSTREAM_PY) --ours-python $(PY) $(BENCH_ARGS)
	PYTHONPATH=python $(PY) bench/loopstall.py --quick
	$(PY) bench/readme.py --quick

# External-plugin transports (gRPC TCP, gRPC UDS, Unix socket), ours against upstream 0.1.4
# with 1 and 64 callers (bench/transports.py; upstream's runtimes need grpcio), then the
# Go client/server round trip alone (core/external/{grpc,unixsock} BenchmarkInvoke).
TRANSPORT_CALLS ?= 2000
bench-transports: $(NATIVE_STAMP) $(BENCH_UPSTREAM_VENV)/.ready
	$(BENCH_UPSTREAM_PY) -m pip install -q grpcio protobuf
	$(PY) bench/transports.py --ours-python $(PY) --upstream-python $(BENCH_UPSTREAM_PY) --calls $(TRANSPORT_CALLS)
	$(GO) test ./core/external/grpc ./core/external/unixsock -run '^$$' -bench Invoke -benchtime 3000x
