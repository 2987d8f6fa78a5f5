"""Benchmark worker: one long-lived process per implementation.

The driver (run.py) starts one worker with upstream's virtualenv and one with ours, then
alternates short rounds between them, so that whatever else the machine is doing hits
both sides alike. The worker answers one JSON line per command on its protocol pipe
(the original stdout; anything the framework prints goes to stderr instead):

    {"op": "hello"}                                   -> implementation facts
    {"op": "setup", "setup": "S2"}                    -> builds and warms that manager
    {"op": "run", "key": "S2", "n": N, "budget_ms": B} -> per-call samples in ns
    {"op": "teardown", "setup": "S2"}
    {"op": "m1", "n": N, "checkpoints": K, "cap_s": C} -> memory snapshots (progress lines first)
    {"op": "exit"}

Every answer has "ok"; a failure answers {"ok": false, "error": "<traceback>"} and the
worker stays usable, so one broken scenario does not hide the others.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as sc
from memstats import snapshot

WARMUP_CALLS = {"S0": 2000, "S1": 300, "S2": 200, "S3": 200, "S4": 20, "S5": 200, "S7": 100}

ns = time.perf_counter_ns


class Worker:
    def __init__(self, impl: str) -> None:
        self.impl = impl
        import cpex.framework as fw  # the implementation this interpreter sees

        self.fw = fw
        self.managers: dict[str, Any] = {}
        self.payloads: dict[str, Any] = {}

    # -- commands -------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        import cpex

        version = getattr(cpex, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as dist_version

                version = dist_version("cpex")
            except Exception:  # our checkout runs from PYTHONPATH, without dist metadata
                version = "checkout"
        return {
            "impl": self.impl,
            "cpex_file": str(Path(cpex.__file__).resolve()),
            "cpex_version": version,
            "python": sys.version.split()[0],
            "pid": os.getpid(),
        }

    async def setup(self, setup: str) -> dict[str, Any]:
        started = ns()
        mgr = await self._manager(setup)
        self.managers[setup] = mgr
        fw = self.fw
        if setup == "S7":
            self.payloads[setup] = {
                "pre": sc.s7_pre_payload(fw),
                "post": sc.s7_post_payload(fw),
                "resource": sc.s7_resource_payload(fw),
            }
        else:
            self.payloads[setup] = {
                "pre": sc.s4_payload(fw) if setup == "S4" else sc.tool_pre_payload(fw),
                "post": sc.tool_post_payload(fw),
                "prompt": sc.prompt_payload(fw),
            }
        info: dict[str, Any] = {"build_ms": (ns() - started) / 1e6}
        if setup == "S0" and mgr.has_hooks_for(sc.S0_HOOK):
            raise RuntimeError(f"S0 config registers {sc.S0_HOOK}; S0 must measure a hook with no plugins")
        if setup != "S0" and not mgr.has_hooks_for(sc.GUARD_HOOK):
            raise RuntimeError(f"{setup}: no plugin registered for {sc.GUARD_HOOK}; the config did not load")
        if setup == "S4":
            info["check"] = await self._s4_check(mgr)
        if setup == "S7":
            info["check"] = await self._s7_check(mgr)
        for i in range(WARMUP_CALLS.get(setup, 100)):
            await self._one_call(setup, i)
        return info

    async def teardown(self, setup: str) -> dict[str, Any]:
        mgr = self.managers.pop(setup, None)
        self.payloads.pop(setup, None)
        if mgr is not None:
            await mgr.shutdown()
        gc.collect()
        return {}

    async def run(self, key: str, n: int, budget_ms: float) -> dict[str, Any]:
        scenario = next(s for s in sc.SCENARIOS if s.key == key)
        if scenario.kind == "throughput":
            return await self._throughput(scenario.setup, budget_ms)
        return await self._latency(scenario, n, budget_ms)

    async def m1(self, n: int, checkpoints: int, cap_s: float, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Memory after many S2 invocations: RSS, Python objects and native handles."""
        mgr = await self._manager("M1")
        fw = self.fw
        payload = sc.tool_pre_payload(fw)
        warm = min(20_000, max(n // 20, 1000))
        for i in range(warm):
            await mgr.invoke_hook(sc.GUARD_HOOK, payload, sc.global_context(fw, i), None, True)
            await _between_requests()
        gc.collect()
        series = [dict(snapshot(), calls=0, seconds=0.0)]
        step = max(n // checkpoints, 1)
        started = time.monotonic()
        done = 0
        capped = False
        while done < n:
            todo = min(step, n - done)
            for i in range(todo):
                await mgr.invoke_hook(sc.GUARD_HOOK, payload, sc.global_context(fw, i), None, True)
                await _between_requests()
            done += todo
            gc.collect()
            elapsed = time.monotonic() - started
            series.append(dict(snapshot(), calls=done, seconds=round(elapsed, 3)))
            emit({"event": "progress", "done": done, "total": n})
            if elapsed > cap_s and done < n:
                capped = True
                break
        await mgr.shutdown()
        return {"requested": n, "calls": done, "capped": capped, "warmup": warm, "series": series}

    # -- scenario mechanics --------------------------------------------------------

    async def _manager(self, setup: str) -> Any:
        fw = self.fw
        policies = sc.gateway_policies(fw) if setup in sc.WITH_POLICIES else None
        mgr = fw.TenantPluginManager(config=str(sc.config_path(setup, self.impl)), timeout=30, hook_policies=policies)
        await mgr.initialize()
        return mgr

    async def _one_call(self, setup: str, i: int) -> Any:
        """One untimed call of the setup's main operation (warm-up)."""
        mgr = self.managers[setup]
        p = self.payloads[setup]
        if setup == "S0":
            mgr.has_hooks_for(sc.S0_HOOK)
            return await mgr.invoke_hook(sc.S0_HOOK, p["prompt"], sc.global_context(self.fw, i))
        if setup == "S5":
            gctx = sc.global_context(self.fw, i)
            _, table = await mgr.invoke_hook(sc.GUARD_HOOK, p["pre"], gctx, None, True)
            return await mgr.invoke_hook("tool_post_invoke", p["post"], gctx, table, True)
        if setup == "S7":
            for s in sc.SCENARIOS:
                if s.setup == "S7":
                    await mgr.invoke_hook(s.hook, p[s.payload], sc.global_context(self.fw, i), None, True)
            await _between_requests()
            return None
        result, _ = await mgr.invoke_hook(sc.GUARD_HOOK, p["pre"], sc.global_context(self.fw, i), None, True)
        await _drain(result)
        await _between_requests()
        return result

    async def _latency(self, scenario: sc.Scenario, n: int, budget_ms: float) -> dict[str, Any]:
        setup = scenario.setup
        mgr = self.managers[setup]
        p = self.payloads[setup]
        fw = self.fw
        samples: list[float] = []
        deadline = ns() + int(budget_ms * 1e6)
        batch = scenario.batch
        cpu0 = time.process_time_ns()
        if scenario.key == "S0.has_hooks_for":
            has = mgr.has_hooks_for
            hook = sc.S0_HOOK
            rng = range(batch)
            while len(samples) < n:
                t0 = ns()
                for _ in rng:
                    has(hook)
                t1 = ns()
                samples.append((t1 - t0) / batch)
                if t1 > deadline:
                    break
        elif scenario.key == "S0.invoke_hook":
            invoke = mgr.invoke_hook
            hook = sc.S0_HOOK
            payload = p["prompt"]
            gctx = sc.global_context(fw, 0)
            rng = range(batch)
            while len(samples) < n:
                t0 = ns()
                for _ in rng:
                    await invoke(hook, payload, gctx)
                t1 = ns()
                samples.append((t1 - t0) / batch)
                if t1 > deadline:
                    break
        else:
            invoke = mgr.invoke_hook
            hook = scenario.hook
            payload = p[scenario.payload]
            i = 0
            while len(samples) < n:
                gctx = sc.global_context(fw, i)  # outside the timed region, as the gateway's request setup
                t0 = ns()
                result, _ = await invoke(hook, payload, gctx, None, True)
                t1 = ns()
                samples.append(float(t1 - t0))
                # Fire-and-forget plugins (S3) finish outside the timed region so that they
                # do not bill the next sample; both sides are treated alike.
                await _drain(result)
                await _between_requests()
                i += 1
                if t1 > deadline:
                    break
        # CPU time of the whole process (the Go runtime's threads included) per call:
        # unlike wall time it does not grow when other processes take the cores.
        calls = len(samples) * batch
        return {"samples": samples, "cpu_ns": time.process_time_ns() - cpu0, "calls": calls}

    async def _throughput(self, setup: str, budget_ms: float) -> dict[str, Any]:
        mgr = self.managers[setup]
        p = self.payloads[setup]
        fw = self.fw
        invoke = mgr.invoke_hook
        pre, post = p["pre"], p["post"]
        latencies: list[int] = []
        # The budget starts once every client has started, and each client checks it after
        # a request, not before its first: on a loaded machine the loop may take longer than
        # the budget to start 200 tasks, and a client that never ran says nothing about
        # fairness. Fairness is the busiest client's share of the calls (run.py checks it).
        started_clients = 0
        all_started = asyncio.Event()
        deadline = 0

        async def client(tid: int) -> int:
            nonlocal started_clients, deadline
            started_clients += 1
            if started_clients == sc.S5_TASKS:
                deadline = ns() + int(budget_ms * 1e6)
                all_started.set()
            await all_started.wait()
            calls = 0
            while True:
                gctx = sc.global_context(fw, tid * 1_000_000 + calls)
                t0 = ns()
                _, table = await invoke(sc.GUARD_HOOK, pre, gctx, None, True)
                t1 = ns()
                await invoke("tool_post_invoke", post, gctx, table, True)
                t2 = ns()
                latencies.append(t1 - t0)
                latencies.append(t2 - t1)
                calls += 2
                # A server's request handler gives the loop back between requests. Without
                # it a chain that never suspends (ours: no-op plugins complete inline)
                # lets task 0 run the whole budget while the other 199 never start, and
                # the scenario measures one client, not 200.
                await _between_requests()
                if ns() >= deadline:
                    return calls

        started = ns()
        cpu0 = time.process_time_ns()
        counts = await asyncio.gather(*(client(t) for t in range(sc.S5_TASKS)))
        elapsed = ns() - started
        return {
            "samples": [float(x) for x in latencies],
            "calls": sum(counts),
            "elapsed_ns": elapsed,
            "cpu_ns": time.process_time_ns() - cpu0,
            # How evenly the tasks were served: the run checks that every task made calls.
            "tasks": sc.S5_TASKS,
            "tasks_with_calls": sum(1 for c in counts if c > 0),
            "min_task_calls": min(counts),
            "max_task_calls": max(counts),
        }

    async def _s4_check(self, mgr: Any) -> dict[str, Any]:
        """What the guard chain did to the 16 KB payload, to compare the two sides' work."""
        payload = sc.s4_payload(self.fw)
        result, _ = await mgr.invoke_hook(sc.GUARD_HOOK, payload, sc.global_context(self.fw, 0), None, True)
        out = result.modified_payload
        args = out.args if out is not None else None
        text = json.dumps(args, sort_keys=True)
        return {
            "continue_processing": bool(result.continue_processing),
            "modified": out is not None,
            "in_bytes": sc.payload_string_bytes(payload.args),
            "out_bytes": sc.payload_string_bytes(args) if args is not None else 0,
            "out_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "plugins_run": len(getattr(result, "executions", []) or []),
            # redaction markers of the S4 configs, to compare how much each side found
            "pii_redactions": text.count("[REDACTED]"),
            "secret_redactions": text.count("***REDACTED***"),
            "words_replaced": text.count("crud") + text.count("[filtered]"),
        }


    async def _s7_check(self, mgr: Any) -> dict[str, Any]:
        """Per S7 row, what the published plugins decided and produced, to compare sides."""
        out: dict[str, Any] = {}
        p = self.payloads["S7"]
        for s in sc.SCENARIOS:
            if s.setup != "S7":
                continue
            result, _ = await mgr.invoke_hook(s.hook, p[s.payload], sc.global_context(self.fw, 0), None, True)
            modified = result.modified_payload
            dump = modified.model_dump(mode="json") if modified is not None else None
            violation = result.violation
            out[s.key] = {
                "continue_processing": bool(result.continue_processing),
                "modified": modified is not None,
                "violation": violation.code if violation is not None else None,
                "out_sha256": hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest(),
            }
        return out


async def _between_requests() -> None:
    """Let the event loop turn once, as a server's loop does between two requests.

    Without it a tight loop of invoke_hook calls that never suspend would keep the loop
    from running its housekeeping (e.g. dropping cancelled timer handles), which no
    server sees; both sides get the same turn, outside the timed region.
    """
    await asyncio.sleep(0)


async def _drain(result: Any) -> None:
    tasks = getattr(result, "background_tasks", None)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    impl = sys.argv[1] if len(sys.argv) > 1 else "unknown"
    # The protocol pipe is the original stdout; fd 1 then points at stderr, so a stray
    # print() or log handler in the framework or a plugin cannot corrupt the protocol.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(obj: dict[str, Any]) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = Worker(impl)
    except Exception:
        emit({"ok": False, "error": traceback.format_exc()})
        return
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.get("op")
        try:
            if op == "exit":
                emit({"ok": True})
                break
            if op == "hello":
                answer = worker.hello()
            elif op == "setup":
                answer = loop.run_until_complete(worker.setup(cmd["setup"]))
            elif op == "teardown":
                answer = loop.run_until_complete(worker.teardown(cmd["setup"]))
            elif op == "run":
                answer = loop.run_until_complete(worker.run(cmd["key"], int(cmd["n"]), float(cmd["budget_ms"])))
            elif op == "m1":
                answer = loop.run_until_complete(
                    worker.m1(int(cmd["n"]), int(cmd["checkpoints"]), float(cmd["cap_s"]), emit)
                )
            else:
                raise ValueError(f"unknown op {op!r}")
            emit(dict(answer, ok=True))
        except Exception:
            emit({"ok": False, "error": traceback.format_exc()})
    loop.close()


if __name__ == "__main__":
    main()
