"""cpex-go against upstream cpex 0.1.4: same scenarios, same configs, one interleaved run.

    python bench/run.py            # full run (make bench), about 5-8 minutes on 2 cores
    python bench/run.py --quick    # smoke run (make bench-quick), well under a minute

The driver starts one long-lived worker process per implementation (worker.py, each in
its own virtualenv) and alternates short rounds between them, switching which side goes
first every round, so that machine noise falls on both alike. It then runs the Go
benchmarks (S6) and the memory soak (M1, ours only), prints the table and writes
results/latest.json and results/ratios.png (a --quick run writes latest-quick.json and
ratios-quick.png instead, so that a smoke run never replaces the numbers of a real one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import gobench  # noqa: E402
import report  # noqa: E402
import scenarios as sc  # noqa: E402
from goals import GOALS  # noqa: E402
from stats import median, summarize  # noqa: E402

IMPLS = ("upstream", "ours")
GROUPS = ("S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "M1")
# Groups measured by the workers, one manager per setup, in this order.
WORKER_SETUPS = ("S0", "S1", "S2", "S3", "S4", "S5", "S7")


@dataclass(frozen=True)
class Plan:
    """How much to measure: rounds per scenario and each side's time budget per round."""

    name: str
    rounds: int
    budget_ms: dict[str, float]
    throughput_rounds: int
    m1_calls: int
    m1_checkpoints: int
    m1_cap_s: float
    go_benchtime: str
    max_samples_per_round: int = 200_000


PLANS = {
    "full": Plan(
        name="full",
        rounds=8,
        budget_ms={"S0": 150, "S1": 400, "S2": 400, "S3": 400, "S4": 800, "S5": 1500, "S7": 400},
        throughput_rounds=6,
        m1_calls=1_000_000,
        m1_checkpoints=20,
        m1_cap_s=120.0,
        go_benchtime="1s",
    ),
    "quick": Plan(
        name="quick",
        rounds=2,
        budget_ms={"S0": 20, "S1": 50, "S2": 50, "S3": 50, "S4": 80, "S5": 250, "S7": 50},
        throughput_rounds=1,
        m1_calls=4_000,
        m1_checkpoints=4,
        m1_cap_s=10.0,
        go_benchtime="20x",
    ),
}


# S5 fails when its busiest client made more than this many times an even share of a
# round's calls (round robin gives ~1; a chain that never yields gives ~200).
S5_MAX_BUSIEST_SHARE = 10.0


class WorkerError(RuntimeError):
    pass


class WorkerProc:
    """A worker subprocess speaking one JSON line per command (see worker.py)."""

    def __init__(self, impl: str, python: Path, log_dir: Path) -> None:
        self.impl = impl
        self.python = python
        self.log_path = log_dir / f"worker-{impl}.log"
        env = dict(os.environ)
        if impl == "ours":
            # Our package runs from the checkout (python/, with the extension built into it).
            env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        else:
            env.pop("PYTHONPATH", None)  # upstream must come from its own virtualenv only
        env.setdefault("PYTHONHASHSEED", "0")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the worker's stderr for its lifetime, closed in close()
        self._buf = bytearray()  # bytes read from the worker's stdout, not yet a whole line
        self.proc = subprocess.Popen(
            [str(python), str(BENCH_DIR / "worker.py"), impl],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=str(REPO),
            env=env,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, cmd: dict[str, Any], timeout_s: float, on_event: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        if not self.alive():
            raise WorkerError(f"{self.impl} worker has exited ({self.proc.returncode}); log: {self.log_path}\n{self.log_tail()}")
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._readline(deadline)
            if line is None:
                self.kill()
                raise WorkerError(f"{self.impl} worker gave no answer to {cmd['op']} within {timeout_s:.0f}s; killed")
            if not line:
                self.proc.wait(timeout=5)
                raise WorkerError(f"{self.impl} worker died ({self.proc.returncode}) during {cmd['op']}:\n{self.log_tail()}")
            answer = json.loads(line)
            if answer.get("event"):
                if on_event:
                    on_event(answer)
                continue
            if not answer.get("ok"):
                raise WorkerError(answer.get("error", "unknown error"))
            return answer

    def _readline(self, deadline: float) -> bytes | None:
        """The worker's next line; b"" at end of file, None when the deadline passes.

        It reads the pipe's descriptor itself: select() on a buffered file object misses
        lines that an earlier readline() already pulled into the buffer (an M1 progress
        event and the answer arriving together), and would wait for the deadline."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[: nl + 1])
                del self._buf[: nl + 1]
                return line
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            self._buf += chunk

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        if self.alive():
            try:
                self.request({"op": "exit"}, timeout_s=10)
            except WorkerError:
                pass
        self.kill()
        self._log.close()

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)


class Progress:
    """A rich progress bar when rich is installed, plain lines otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self._rich = None
        self.console = None
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            # A log (make bench | tee) is no terminal: give the table room anyway.
            self.console = Console() if sys.stdout.isatty() else Console(width=150)
            self._rich = RichProgress(
                TextColumn("[bold]{task.description:<34}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._rich.add_task("starting", total=total)
            self._rich.start()
        except ImportError:
            self._rich = None

    def describe(self, text: str) -> None:
        if self._rich is not None:
            self._rich.update(self._task, description=text)
        else:
            print(f"[{self.done}/{self.total}] {text}", file=sys.stderr, flush=True)

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self._rich is not None:
            self._rich.update(self._task, advance=steps)

    def stop(self) -> None:
        if self._rich is not None:
            self._rich.update(self._task, completed=self.total, description="done")
            self._rich.stop()


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        go = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        go = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "go": go,
        "loadavg_start": list(os.getloadavg()),
    }


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(GROUPS)
    wanted = [x.strip().upper() for x in only.split(",") if x.strip()]
    bad = [x for x in wanted if x not in GROUPS]
    if bad:
        raise SystemExit(f"--only: unknown scenario {', '.join(bad)} (choose from {', '.join(GROUPS)})")
    return wanted


def _default_python(name: str) -> Path:
    return REPO / name / "bin" / "python"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.plan = PLANS["quick" if args.quick else "full"]
        self.selected = _selected(args.only)
        self.impls = [x.strip() for x in args.impls.split(",") if x.strip()]
        for impl in self.impls:
            if impl not in IMPLS:
                raise SystemExit(f"--impls: unknown implementation {impl!r} (choose from {', '.join(IMPLS)})")
        self.pythons = {"upstream": Path(args.upstream_python), "ours": Path(args.ours_python)}
        self.log_dir = Path(tempfile.mkdtemp(prefix="cpex-bench-"))
        self.workers: dict[str, WorkerProc] = {}
        self.errors: list[str] = []
        self.results: dict[str, Any] = {
            "schema": 1,
            "mode": self.plan.name,
            "selected": self.selected,
            "implementations": {},
            "scenarios": {},
        }

    # -- workers ---------------------------------------------------------------

    def worker(self, impl: str) -> WorkerProc:
        w = self.workers.get(impl)
        if w is None or not w.alive():
            w = WorkerProc(impl, self.pythons[impl], self.log_dir)
            self.workers[impl] = w
            hello = w.request({"op": "hello"}, timeout_s=120)
            hello.pop("ok", None)
            self.results["implementations"][impl] = hello
        return w

    def close_workers(self) -> None:
        for w in self.workers.values():
            w.close()
        self.workers.clear()

    # -- the run -----------------------------------------------------------------

    def total_steps(self) -> int:
        steps = 0
        for s in sc.SCENARIOS:
            if s.setup in self.selected:
                rounds = self.plan.throughput_rounds if s.kind == "throughput" else self.plan.rounds
                steps += rounds * len(self.impls)
        steps += sum(len(self.impls) for g in WORKER_SETUPS if g in self.selected)
        if "S8" in self.selected:
            steps += len(self.impls)
        if "M1" in self.selected and "ours" in self.impls:
            steps += self.plan.m1_checkpoints
        if "S6" in self.selected:
            steps += 1
        return steps

    def run(self) -> dict[str, Any]:
        started = time.time()
        self.results["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["machine"] = machine_info()
        self.progress = Progress(self.total_steps(), enabled=not self.args.plain)
        try:
            for setup in WORKER_SETUPS:
                if setup in self.selected:
                    self.run_setup(setup)
            if "S8" in self.selected:
                self.results["loop_stall"] = self.run_s8()
            if "M1" in self.selected and "ours" in self.impls:
                self.run_m1()
            self.close_workers()
            if "S6" in self.selected:
                self.progress.describe("S6 go test -bench")
                self.results["go"] = self.run_go()
                self.progress.advance()
        finally:
            self.close_workers()
            self.progress.stop()
        self.results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["duration_s"] = round(time.time() - started, 1)
        self.results["machine"]["loadavg_end"] = list(os.getloadavg())
        self.results["errors"] = self.errors
        self.results["worker_logs"] = str(self.log_dir)
        return self.results

    def run_setup(self, setup: str) -> None:
        keys = [s for s in sc.SCENARIOS if s.setup == setup]
        entries = {s.key: self._entry(s) for s in keys}
        ready: list[str] = []
        for impl in self.impls:
            self.progress.describe(f"{setup} setup ({impl})")
            try:
                info = self.worker(impl).request({"op": "setup", "setup": setup}, timeout_s=300)
                for e in entries.values():
                    e["setup"][impl] = {k: v for k, v in info.items() if k != "ok"}
                ready.append(impl)
            except WorkerError as exc:
                self._fail(entries.values(), impl, f"setup: {exc}")
            self.progress.advance()
        for s in keys:
            self.run_rounds(s, entries[s.key], ready)
        for impl in ready:
            try:
                self.worker(impl).request({"op": "teardown", "setup": setup}, timeout_s=120)
            except WorkerError as exc:
                self.errors.append(f"{impl}: {setup} teardown: {_summary(str(exc))}")
        for s in keys:
            self.finish(s, entries[s.key])
            self.results["scenarios"][s.key] = entries[s.key]

    def run_rounds(self, s: sc.Scenario, entry: dict[str, Any], ready: list[str]) -> None:
        rounds = self.plan.throughput_rounds if s.kind == "throughput" else self.plan.rounds
        budget = self.plan.budget_ms[s.setup]
        raw: dict[str, dict[str, list[float]]] = {
            impl: {"samples": [], "round_medians": [], "throughput": [], "cpu": [], "tasks_with_calls": [],
                   "min_task_calls": [], "busiest_share": []}
            for impl in ready
        }
        for r in range(rounds):
            # Alternate which side goes first, so that neither always follows the other.
            order = ready if r % 2 == 0 else list(reversed(ready))
            for impl in order:
                if impl not in raw:
                    self.progress.advance()
                    continue
                self.progress.describe(f"{s.key} round {r + 1}/{rounds} ({impl})")
                try:
                    ans = self.worker(impl).request(
                        {"op": "run", "key": s.key, "n": self.plan.max_samples_per_round, "budget_ms": budget},
                        timeout_s=budget / 1000 * 20 + 120,
                    )
                except WorkerError as exc:
                    self._fail([entry], impl, f"round {r + 1}: {exc}")
                    raw.pop(impl)
                    self.progress.advance()
                    continue
                samples = ans["samples"]
                if samples:
                    raw[impl]["samples"].extend(samples)
                    raw[impl]["round_medians"].append(median(samples))
                if ans.get("calls"):
                    raw[impl]["cpu"].append(ans["cpu_ns"] / ans["calls"])
                if s.kind == "throughput" and ans.get("elapsed_ns"):
                    raw[impl]["throughput"].append(ans["calls"] / (ans["elapsed_ns"] / 1e9))
                    raw[impl]["tasks_with_calls"].append(ans.get("tasks_with_calls", 0))
                    raw[impl]["min_task_calls"].append(ans.get("min_task_calls", 0))
                    calls = ans.get("calls", 0)
                    raw[impl]["busiest_share"].append(ans.get("max_task_calls", 0) * sc.S5_TASKS / calls if calls else float(sc.S5_TASKS))
                self.progress.advance()
        for impl, data in raw.items():
            if not data["samples"]:
                self._fail([entry], impl, "no samples")
                continue
            summary = summarize(data["samples"], data["round_medians"])
            summary["cpu_per_call_ns"] = median(data["cpu"]) if data["cpu"] else None
            if s.kind == "throughput":
                summary["throughput_per_s"] = median(data["throughput"])
                summary["round_throughputs"] = [round(x, 1) for x in data["throughput"]]
                summary["concurrent_tasks"] = sc.S5_TASKS
                # The fewest tasks that made calls in any round, the fewest calls a task
                # made, and the busiest task's share of a round's calls against an even
                # share (1.0): a concurrent scenario must keep every client busy, and a
                # chain that never gives the loop back shows as one task with ~all calls.
                summary["tasks_with_calls"] = min(data["tasks_with_calls"])
                summary["min_task_calls"] = min(data["min_task_calls"])
                summary["busiest_task_share"] = round(max(data["busiest_share"]), 2)
                if summary["tasks_with_calls"] < sc.S5_TASKS:
                    self._fail([entry], impl, f"only {summary['tasks_with_calls']} of {sc.S5_TASKS} tasks made calls")
                elif summary["busiest_task_share"] > S5_MAX_BUSIEST_SHARE:
                    self._fail([entry], impl, f"one task made {summary['busiest_task_share']}x an even share of the calls")
            entry[impl] = summary

    def _entry(self, s: sc.Scenario) -> dict[str, Any]:
        return {"title": s.title, "kind": s.kind, "batch": s.batch, "unit": "ns per call", "setup": {}}

    def _fail(self, entries: Any, impl: str, message: str) -> None:
        for e in entries:
            e.setdefault("error", {})[impl] = message
        self.errors.append(f"{impl}: {_summary(message)}")

    def finish(self, s: sc.Scenario, entry: dict[str, Any]) -> None:
        up, ours = entry.get("upstream"), entry.get("ours")
        ratio = None
        if up and ours:
            if s.kind == "throughput":
                ratio = ours["throughput_per_s"] / up["throughput_per_s"]
            else:
                ratio = ours["median_ns"] / up["median_ns"]
            entry["ratio_p99"] = (ours["p99_ns"] / up["p99_ns"]) if s.kind != "throughput" else None
            if ours.get("cpu_per_call_ns") and up.get("cpu_per_call_ns"):
                entry["ratio_cpu"] = ours["cpu_per_call_ns"] / up["cpu_per_call_ns"]
        entry["ratio"] = ratio
        goal = GOALS.get(s.key)
        if goal is not None:
            entry["goal"] = {"of": goal.of, "op": goal.op, "value": goal.value, "text": goal.text}
            measured = ours["median_ns"] if goal.of == "ours_median_ns" and ours else ratio
            entry["met"] = goal.met(measured)
        checks = {impl: entry["setup"].get(impl, {}).get("check") for impl in IMPLS}
        if all(checks.values()):
            if s.setup == "S4":
                entry["same_output"] = checks["upstream"]["out_sha256"] == checks["ours"]["out_sha256"]
            elif s.setup == "S7":
                # the same decision, violation and modified payload from both packages
                entry["same_output"] = checks["upstream"][s.key] == checks["ours"][s.key]

    def run_m1(self) -> None:
        plan = self.plan
        self.progress.describe(f"M1 {plan.m1_calls:,} S2 calls (ours)")
        seen = [0]

        def on_event(ev: dict[str, Any]) -> None:
            seen[0] += 1
            self.progress.describe(f"M1 {ev['done']:,}/{ev['total']:,} calls (ours)")
            self.progress.advance()

        try:
            ans = self.worker("ours").request(
                {"op": "m1", "n": plan.m1_calls, "checkpoints": plan.m1_checkpoints, "cap_s": plan.m1_cap_s},
                timeout_s=plan.m1_cap_s * 2 + 300,
                on_event=on_event,
            )
        except WorkerError as exc:
            self.results["memory"] = {"error": str(exc)}
            self.errors.append(f"ours: M1: {_summary(str(exc))}")
            self.progress.advance(max(plan.m1_checkpoints - seen[0], 0))
            return
        self.progress.advance(max(plan.m1_checkpoints - seen[0], 0))
        self.results["memory"] = m1_summary(ans)

    def run_s8(self) -> dict[str, Any]:
        """S8: the event loop under guard work (bench/loopstall.py), both packages.

        Ours runs the four Go built-in guards under the core's on/off-loop rule; upstream
        runs the same work as Python plugins (s4_guards_python.yaml), on the loop. Each
        side in its own process with its own interpreter, after the workers are gone."""
        out: dict[str, Any] = {}
        goal = GOALS["S8"]
        for impl in self.impls:
            self.progress.describe(f"S8 loop stall ({impl})")
            env = dict(os.environ)
            if impl == "ours":
                env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            else:
                env.pop("PYTHONPATH", None)
            env.pop("CPEX_LOOP_STALL_BUDGET_US", None)
            mode = "rule" if impl == "ours" else "upstream"
            cmd = [str(self.pythons[impl]), str(BENCH_DIR / "loopstall.py"), "--child", mode,
                   "--quick" if self.args.quick else "--s8"]
            proc = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True, timeout=1800, check=False)
            if proc.returncode != 0:
                self.errors.append(f"{impl}: S8: {_summary(proc.stderr[-2000:])}")
                out[impl] = {"error": proc.stderr[-2000:]}
            else:
                sizes = json.loads(proc.stdout.strip().splitlines()[-1])
                out[impl] = {
                    "sizes": sizes,
                    "met": all(goal.met(r["cpu_stall_p99_ms"]) for r in sizes.values()) if impl == "ours" else None,
                }
            self.progress.advance()
        out["goal"] = {"of": goal.of, "op": goal.op, "value": goal.value, "text": goal.text}
        return out

    def run_go(self) -> dict[str, Any]:
        out = gobench.run(REPO, self.plan.go_benchtime, go=self.args.go)
        noop10 = out["benchmarks"].get("BenchmarkInvokeGoNoop10", {})
        goal = GOALS["S6"]
        out["goal"] = {"of": goal.of, "op": goal.op, "value": goal.value, "text": goal.text, "benchmark": "BenchmarkInvokeGoNoop10"}
        out["met"] = goal.met(noop10.get("ns_per_op")) if noop10.get("status") == "ok" else None
        return out


def _summary(message: str) -> str:
    """One line for the error list: the context and, for a traceback, its last line."""
    head, _, tb = message.partition("Traceback (most recent call last):")
    last = [x for x in tb.splitlines() if x.strip()][-1:] if tb else []
    return (head.strip() + " " + (last[0].strip() if last else "")).strip()


def _growth(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    if before == 0:
        return 0.0 if after == 0 else None
    return (after - before) / before * 100.0


def m1_summary(ans: dict[str, Any]) -> dict[str, Any]:
    series = ans["series"]
    first, last = series[0], series[-1]
    growth = {k: _growth(first.get(k), last.get(k)) for k in ("rss_kb", "py_objects", "fds", "threads")}
    native_growth: dict[str, float | None] = {}
    if isinstance(first.get("native"), dict) and isinstance(last.get("native"), dict):
        for k, v in first["native"].items():
            if isinstance(v, (int, float)) and isinstance(last["native"].get(k), (int, float)):
                native_growth[k] = _growth(v, last["native"][k])
    goal = GOALS["M1"]
    judged = [growth["rss_kb"], growth["py_objects"], *native_growth.values()]
    met = None if any(g is None for g in judged[:2]) else all(g is not None and goal.met(g) for g in judged)
    return {
        "scenario": "S2 (10 sequential no-op plugins, gateway policies), ours only",
        "requested": ans["requested"],
        "calls": ans["calls"],
        "capped": ans["capped"],
        "warmup_calls": ans["warmup"],
        "before": first,
        "after": last,
        "growth_pct": growth,
        "native_growth_pct": native_growth,
        "series": series,
        "goal": {"of": goal.of, "op": goal.op, "value": goal.value, "text": goal.text},
        "met": met,
        "note": None if first.get("native") is not None else "the extension exposes no live-handle counters (pybind Stats); handles not measured",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke mode: few short rounds, small M1, 20x Go benchmarks")
    p.add_argument("--only", help=f"comma-separated subset of {','.join(GROUPS)}")
    p.add_argument("--impls", default="upstream,ours", help="which sides to run (default: upstream,ours)")
    p.add_argument("--ours-python", default=str(_default_python(".venv")), help="interpreter with our build deps (default .venv)")
    p.add_argument("--upstream-python", default=str(_default_python(".venv-upstream")), help="interpreter with cpex==0.1.4")
    p.add_argument("--out", help="results folder (default bench/results)")
    p.add_argument("--go", default="go", help="go command for S6")
    p.add_argument("--no-chart", action="store_true")
    p.add_argument("--plain", action="store_true", help="no rich progress bar or table")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    for impl in bench.impls:
        if not bench.pythons[impl].exists():
            raise SystemExit(f"{impl}: interpreter {bench.pythons[impl]} does not exist (run `make bench`, which sets it up)")
    results = bench.run()
    out_dir = Path(args.out) if args.out else BENCH_DIR / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    json_path = out_dir / f"latest{suffix}.json"
    chart_path = out_dir / f"ratios{suffix}.png"
    results["chart"] = None
    if not args.no_chart:
        why_not = report.chart(results, chart_path)
        results["chart"] = chart_path.name if why_not is None else None
        if why_not:
            results["chart_skipped"] = why_not
    results["markdown_table"] = report.markdown(results)
    json_path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    (out_dir / f"summary{suffix}.md").write_text(report.summary_markdown(results, results["chart"]))
    console = bench.progress.console if not args.plain else None
    report.print_table(results, console)
    print(f"\nresults: {json_path}" + (f"\nchart:   {chart_path}" if results["chart"] else f"\nchart:   skipped ({results.get('chart_skipped', '--no-chart')})"))
    if results["errors"]:
        print("\nerrors (worker logs in " + results["worker_logs"] + "):", file=sys.stderr)
        for e in results["errors"]:
            print("  - " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
