"""The client side of bench/external.py, run with either side's interpreter (ours or
upstream cpex 0.1.4): a PluginManager whose one plugin is ``kind: external`` calls
tool_pre_invoke with C concurrent callers for a fixed time, for each C given, and prints
calls/s and latency percentiles as one JSON line. Only the public cpex 0.1.x API is used,
so the same file drives both packages."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload


def percentile(sorted_ns: list[int], q: float) -> float:
    if not sorted_ns:
        return float("nan")
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


async def measure(manager: PluginManager, callers: int, seconds: float) -> dict[str, Any]:
    payload = ToolPreInvokePayload(name="search", args={"q": "weather in Paris"})
    latencies: list[int] = []
    stop = time.perf_counter() + seconds

    async def caller(i: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter_ns()
            result, _ = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id=f"{i}-{n}"))
            latencies.append(time.perf_counter_ns() - t0)
            assert result.continue_processing
            n += 1

    start = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {"callers": callers, "calls": len(latencies), "wall_s": wall, "calls_per_s": len(latencies) / wall,
            "p50_us": percentile(latencies, 0.50), "p99_us": percentile(latencies, 0.99)}


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("--callers", default="1,32")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=int, default=50)
    args = p.parse_args()
    manager = PluginManager(args.config, timeout=30)
    await manager.initialize()
    try:
        payload = ToolPreInvokePayload(name="search", args={"q": "warm-up"})
        for i in range(args.warmup):
            await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id=f"w{i}"))
        rows = [await measure(manager, int(c), args.seconds) for c in args.callers.split(",")]
    finally:
        await manager.shutdown()
    print(json.dumps(rows))


if __name__ == "__main__":
    asyncio.run(main())
