"""Cost of per-plugin metrics on the S2 scenario (10 Python no-op plugins, sequential,
gateway policies): two managers in one process, metrics off and on, measured in
alternating rounds so that whatever else the machine does hits both alike.

    PYTHONPATH=python .venv/bin/python bench/metrics_overhead.py [--rounds 20] [--calls 2000]

Prints the median per-call time of each side (CPU time of the process per call, which a
busy machine inflates less than wall time, and wall time) and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as sc


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()

    import cpex.framework as fw

    config = str(sc.config_path("S2", "ours"))
    managers: dict[str, Any] = {}
    for on in (False, True):
        mgr = fw.TenantPluginManager(config=config, timeout=30, hook_policies=sc.gateway_policies(fw), metrics=on)
        await mgr.initialize()
        managers["on" if on else "off"] = mgr
    payload = sc.tool_pre_payload(fw)

    async def calls(mgr: Any, n: int) -> tuple[float, float]:
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        for i in range(n):
            await mgr.invoke_hook(sc.GUARD_HOOK, payload, sc.global_context(fw, i), None, True)
        return (time.process_time_ns() - c0) / n, (time.perf_counter_ns() - w0) / n

    for mgr in managers.values():  # warm-up
        await calls(mgr, 300)
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    wall: dict[str, list[float]] = {"off": [], "on": []}
    for r in range(args.rounds):
        order = ("off", "on") if r % 2 == 0 else ("on", "off")
        for side in order:
            c, w = await calls(managers[side], args.calls)
            cpu[side].append(c)
            wall[side].append(w)
    for name, d in (("cpu", cpu), ("wall", wall)):
        off, on = statistics.median(d["off"]), statistics.median(d["on"])
        q = statistics.quantiles(d["off"], n=4)
        print(f"{name}: off median {off / 1000:.2f} µs/call (IQR {q[0] / 1000:.2f}-{q[2] / 1000:.2f}), "
              f"on median {on / 1000:.2f} µs/call, delta {(on - off) / 1000:+.2f} µs ({(on - off) / off * 100:+.1f}%)")
    for mgr in managers.values():
        await mgr.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
