"""Peak memory with many hook calls in flight at once (issue 10, item 11).

Runs N concurrent ``invoke_hook`` tasks (asyncio.gather) over the ten sequential
plugins of bench/configs/s2_ten_noop.yaml, each plugin awaiting a short sleep
(bench_plugins.sleepy) so that the calls overlap, and prints the process's peak RSS
(VmHWM) as JSON. Run it with either package's interpreter, each in a fresh process:

    PYTHONPATH=python .venv/bin/python bench/memconc.py            # ours
    .venv-upstream/bin/python bench/memconc.py                     # upstream cpex 0.1.4

``--rounds`` repeats the burst (a leak grows with rounds, a peak does not);
``--sample`` records RSS and the Go heap (pybind Stats, after a GC) at the moment every
call of the first burst has entered ``invoke_hook``; ``--trace`` adds tracemalloc's top
allocation sites there (slow; the RSS then includes tracemalloc's own bookkeeping).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # bench_plugins

import yaml  # noqa: E402

from cpex.framework import GlobalContext, ToolPreInvokePayload  # noqa: E402

try:  # ours and newer upstreams
    from cpex.framework import TenantPluginManager as Manager
except ImportError:  # pragma: no cover - upstream 0.1.x
    from cpex.framework import PluginManager as Manager  # type: ignore[assignment,no-redef]


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _config(path: str, sleep: float) -> str:
    """The S2 config, its no-op plugins swapped for the sleeping ones unless sleep < 0."""
    with open(os.path.join(HERE, "configs", "s2_ten_noop.yaml"), encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    if sleep >= 0:  # 0: the plugins await asyncio.sleep(0) (one trip through the loop)
        import bench_plugins.sleepy as sleepy

        sleepy.SLEEP_S = sleep
        for plugin in cfg["plugins"]:
            plugin["kind"] = "bench_plugins.sleepy.SleepyNoopPlugin"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(cfg, fh)
    return path


async def _burst(manager: Any, n: int, snap: list[Any] | None = None, tracing: bool = False) -> int:
    started = 0
    all_started = asyncio.Event()

    async def one(k: int) -> bool:
        nonlocal started
        payload = ToolPreInvokePayload(name="search", args={"q": f"query {k}", "limit": 10})
        ctx = GlobalContext(request_id=f"req-{k}", server_id="srv", user="alice")
        started += 1
        if started == n:
            all_started.set()
        result, _ = await manager.invoke_hook("tool_pre_invoke", payload, ctx)
        return bool(result.continue_processing)

    async def sample() -> None:
        # every call has entered invoke_hook: about the most in flight at once
        await all_started.wait()
        assert snap is not None
        snap.append({"rss_kb": _status_kb("VmRSS"), "native": _native_stats()})
        if tracing:
            import tracemalloc

            snap.append(tracemalloc.take_snapshot())

    sampler = asyncio.ensure_future(sample()) if snap is not None else None
    results = await asyncio.gather(*(one(k) for k in range(n)), return_exceptions=True)
    if sampler is not None:
        await sampler
    return sum(1 for r in results if r is not True)


def _native_stats() -> Any:
    native = sys.modules.get("cpex._native._native")
    fn = getattr(native, "pybind_Stats", None) if native is not None else None
    return json.loads(fn()) if fn is not None else None


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="calls in flight at once")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sleep", type=float, default=0.01, help="seconds each plugin sleeps (-1: the plain no-op, which never awaits)")
    ap.add_argument("--sample", action="store_true", help="RSS and Go heap while every call is in flight")
    ap.add_argument("--trace", action="store_true", help="with --sample: tracemalloc top sites there too")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        manager = Manager(_config(os.path.join(tmp, "memconc.yaml"), args.sleep))
        await manager.initialize()
    await _burst(manager, 10)  # warm up: imports, plan caches, the Go runtime
    base_kb = _status_kb("VmRSS")
    if args.trace:
        import tracemalloc

        tracemalloc.start(8)
    rounds = []
    snaps: list[Any] = []
    for r in range(args.rounds):
        errors = await _burst(manager, args.n, snaps if args.sample and r == 0 else None, args.trace)
        rounds.append({"errors": errors, "rss_kb": _status_kb("VmRSS"), "hwm_kb": _status_kb("VmHWM")})
    out: dict[str, Any] = {
        "package": "ours" if "cpex._native._native" in sys.modules else "upstream",
        "in_flight": args.n,
        "sleep_s": args.sleep,
        "baseline_rss_mb": round(base_kb / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rounds": rounds,
        "native_stats": _native_stats(),
    }
    if snaps:
        out["in_flight_sample"] = snaps[0]
    if args.trace and len(snaps) > 1:
        import tracemalloc

        snap = snaps[1].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        out["traced_at_sample_mb"] = round(sum(s.size for s in snap.statistics("filename")) / 2**20, 1)
        out["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        out["top"] = [
            {"kb": round(s.size / 1024), "count": s.count, "where": [str(f) for f in s.traceback][-4:]}
            for s in snap.statistics("traceback")[:25]
        ]
        out["top_lines"] = [f"{round(s.size / 1024)} kB {s.count} {s.traceback[0]}" for s in snap.statistics("lineno")[:25]]
    await manager.shutdown()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
