"""Event-loop stall caused by guard work (issue 10 item 4c; S8 of issue 12).

    python bench/loopstall.py            # full run, ours, every mode (make bench)
    python bench/loopstall.py --quick    # smoke run (make bench-quick)

run.py's S8 runs the "rule" mode for ours and the "upstream" mode with upstream's
interpreter (the same guard work as Python plugins on the loop) and puts both in the
main table.

While the four built-in Go guards (bench/configs/s4_guards_builtin.yaml: PII filter,
secrets detection, regex replace, deny list) run through ``invoke_hook`` on payloads of
16 KB, 64 KB, 256 KB and 1 MB (990,000 bytes: the payload-size guard's limit is
1,000,000) of tool-args text, a concurrent trivial asyncio task ticks at every turn of
the event loop (``await asyncio.sleep(0)``: the finest probe a request on the same loop
can be, a tick every few microseconds while the loop is free) and records the gap
between its ticks. A guard call's *stall* is the longest gap seen while that call was in
flight: how long another request of the process waited for the loop because of it.

Gaps are measured twice: in CPU time of the loop's thread (``time.thread_time_ns``: the
work the loop did in one go, whatever the rest of the machine does) and in wall time
(what a request waited, including the time the OS gave the thread's core to another
process: on a shared machine that part is noise the rule cannot remove). The table
reports p50, p99 and worst of the CPU stall, p99 of the wall stall, the median call
latency, and Python's cyclic collections inside the worst call (a generation-2 collection
of the whole process costs 20-40 ms of CPU here, whichever call's allocation starts it).

Modes, each in its own process (the core reads its budget once):

- ``on``: every go step on the loop (the plain, blocking call);
- ``off``: every go step off the loop (CPEX_LOOP_STALL_BUDGET_US=0);
- ``size256k``: the rule before item 4c, emulated: off the loop from 262,144 characters
  of payload JSON, on it below;
- ``rule``: the rule now (pybind/offloop.go): off the loop when the measured cost of the
  step predicts a stall above core.LoopStallBudget.

Writes results/loopstall.json (--quick: loopstall-quick.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import scenarios as sc  # noqa: E402

# "1 MB" stays just under the payload-size guard (1,000,000, measured as upstream does)
SIZES = {"16 KB": 16 << 10, "64 KB": 64 << 10, "256 KB": 256 << 10, "1 MB": 990_000}
MODES = ("on", "size256k", "rule", "off")
# "upstream": the same guard work on upstream cpex 0.1.4, whose guards are Python plugins
# that run on the loop (bench/configs/s4_guards_python.yaml): run by run.py's S8 with
# upstream's interpreter, so the table compares both packages' stalls.
CHILD_MODES = (*MODES, "upstream")
OLD_THRESHOLD = 262144  # the fixed "async" of the rule before item 4c (characters)


def guard_args(size: int) -> dict[str, Any]:
    """``size`` bytes of string content, nested like S4's payload, with findings."""
    rng = random.Random(20261202)
    quarter = size // 4
    return {
        "query": sc._text(rng, quarter, 40),
        "documents": [sc._text(rng, quarter // 4, 30) for _ in range(4)],
        "metadata": {"notes": sc._text(rng, size - 2 * quarter, 35), "author": "bench@example.com"},
        "limit": 10,
    }


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


class PyGC:
    """Python's cyclic collections (generation, thread CPU in ns) since the last ``take``:
    a collection that runs inside a call is loop time the call's stall includes."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int]] = []
        self._t0 = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.thread_time_ns()
        else:
            self.events.append((info["generation"], time.thread_time_ns() - self._t0))

    def take(self) -> list[tuple[int, int]]:
        out, self.events = self.events, []
        return out


async def measure(mode: str, calls: dict[str, int]) -> dict[str, Any]:
    import gc

    import cpex.framework as fw

    impl = "upstream" if mode == "upstream" else "ours"
    if impl == "ours":
        from cpex.framework import _gowait
    mgr = fw.TenantPluginManager(config=str(sc.config_path("S4", impl)), timeout=30)
    await mgr.initialize()
    out: dict[str, Any] = {}
    for label, size in SIZES.items():
        payload = fw.ToolPreInvokePayload(name="ingest_documents", args=guard_args(size))
        text_len = len(payload.model_dump_json())
        if mode == "on":
            _gowait.enabled = False
        elif mode == "size256k":
            _gowait.enabled = text_len >= OLD_THRESHOLD
        stalls: list[float] = []
        latencies: list[float] = []
        cpu_stalls: list[float] = []
        pygc: list[list[tuple[int, int]]] = []  # per measured call
        collections = PyGC()
        gc.callbacks.append(collections)
        state = {"max_gap": 0.0, "max_cpu": 0.0, "running": True}

        async def ticker(state: dict[str, Any] = state) -> None:  # this iteration's state
            last, last_cpu = time.perf_counter(), time.thread_time()
            while state["running"]:
                await asyncio.sleep(0)
                now, cpu = time.perf_counter(), time.thread_time()
                state["max_gap"] = max(state["max_gap"], now - last)
                state["max_cpu"] = max(state["max_cpu"], cpu - last_cpu)
                last, last_cpu = now, cpu

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        n = calls[label]
        for i in range(n + 2):  # two warm-up calls (they also teach the core the cost)
            state["max_gap"] = state["max_cpu"] = 0.0
            collections.take()
            g = sc.global_context(fw, i)
            t0 = time.perf_counter()
            res = await mgr.invoke_hook(sc.GUARD_HOOK, payload, global_context=g)
            t1 = time.perf_counter()
            await asyncio.sleep(0)  # the ticker sees the loop free again: the gap closes
            if i >= 2:
                stalls.append(state["max_gap"])
                cpu_stalls.append(state["max_cpu"])
                latencies.append(t1 - t0)
                pygc.append(collections.take())
            assert res[0].continue_processing
        state["running"] = False
        await tick
        gc.callbacks.remove(collections)
        worst = max(range(len(cpu_stalls)), key=cpu_stalls.__getitem__)
        out[label] = {
            "payload_json_chars": text_len,
            "calls": n,
            "cpu_stall_p50_ms": pct(cpu_stalls, 50) * 1e3,
            "cpu_stall_p99_ms": pct(cpu_stalls, 99) * 1e3,
            "cpu_stall_max_ms": max(cpu_stalls) * 1e3,
            "wall_stall_p50_ms": pct(stalls, 50) * 1e3,
            "wall_stall_p99_ms": pct(stalls, 99) * 1e3,
            "wall_stall_max_ms": max(stalls) * 1e3,
            "latency_p50_ms": pct(latencies, 50) * 1e3,
            # Python's collector inside the worst call, and how many calls ran one of
            # generation 1 or 2 (the costly ones: 1-3 ms and 20-40 ms of CPU here)
            "worst_call_pygc": [{"gen": g, "ms": ns / 1e6} for g, ns in pygc[worst]],
            "calls_with_pygc_gen1_2": sum(1 for ev in pygc if any(g >= 1 for g, _ in ev)),
        }
    await mgr.shutdown()
    return out


CALLS = {"16 KB": 1000, "64 KB": 500, "256 KB": 200, "1 MB": 100}
QUICK_CALLS = {"16 KB": 200, "64 KB": 100, "256 KB": 40, "1 MB": 15}
# S8 of run.py: fewer calls, as upstream's Python guards take ~0.5 s per 1 MB call.
S8_CALLS = {"16 KB": 400, "64 KB": 200, "256 KB": 100, "1 MB": 50}


def child(mode: str, quick: bool, s8: bool = False) -> None:
    calls = QUICK_CALLS if quick else S8_CALLS if s8 else CALLS
    print(json.dumps(asyncio.run(measure(mode, calls))))


def run_mode(mode: str, quick: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), env.get("PYTHONPATH")]))
    env.pop("CPEX_LOOP_STALL_BUDGET_US", None)
    if mode in ("off", "size256k"):
        env["CPEX_LOOP_STALL_BUDGET_US"] = "0"  # size256k: enabled per size decides
    args = [sys.executable, __file__, "--child", mode] + (["--quick"] if quick else [])
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"loopstall: mode {mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| payload | mode | CPU stall p50 | CPU stall p99 | CPU stall max | wall stall p99 | call p50 | Python GC in the worst call |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label in SIZES:
        for mode in results:
            r = results[mode][label]
            lines.append(
                f"| {label} | {mode} | {r['cpu_stall_p50_ms']:.2f} ms | {r['cpu_stall_p99_ms']:.2f} ms "
                f"| {r['cpu_stall_max_ms']:.2f} ms | {r['wall_stall_p99_ms']:.2f} ms | {r['latency_p50_ms']:.2f} ms | {_pygc(r)} |"
            )
    return "\n".join(lines)


def _pygc(r: dict[str, Any]) -> str:
    events = r.get("worst_call_pygc") or []
    return ", ".join(f"gen {e['gen']} {e['ms']:.2f} ms" for e in events) or "none"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer calls per size (smoke run)")
    ap.add_argument("--child", choices=CHILD_MODES, help=argparse.SUPPRESS)
    ap.add_argument("--s8", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ", ".join(MODES))
    a = ap.parse_args()
    if a.child:
        child(a.child, a.quick, a.s8)
        return
    modes = [m for m in a.modes.split(",") if m]
    started = time.time()
    results = {m: run_mode(m, a.quick) for m in modes}
    md = table(results)
    print(md)
    out = BENCH_DIR / "results" / ("loopstall-quick.json" if a.quick else "loopstall.json")
    out.parent.mkdir(exist_ok=True)
    meta = {
        "measured_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1), "load_avg": os.getloadavg(), "cpus": os.cpu_count(),
    }
    out.write_text(json.dumps({"meta": meta, "results": results, "table": md}, indent=1) + "\n")


if __name__ == "__main__":
    main()
