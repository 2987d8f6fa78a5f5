"""S6: the Go API's own benchmarks, run with `go test -bench` and parsed.

A benchmark that does not exist (yet) is reported as "missing", a package that does not
build as "error" with the compiler's words; neither stops the rest of the run.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODULE = "github.com/cpex-go/cpex"

# package directory -> benchmark names (without the "Benchmark" prefix's sub-benchmarks)
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "./tests/go": (
        "BenchmarkInvokeNoPlugins",
        "BenchmarkInvokeGoNoop1",
        "BenchmarkInvokeGoNoop10",
        "BenchmarkInvokeGoNoop10NoTable",
        "BenchmarkInvokeGoNoop10NoRecords",
        "BenchmarkInvokeGoNoop10Into",
        "BenchmarkInvokeGoNoop10Lean",
        "BenchmarkInvokeNoPluginsInto",
        "BenchmarkInvokeAllModes",
        "BenchmarkForeignRoundTrip",
    ),
    "./core/builtins": (
        "BenchmarkPIIFilter16KB",
        "BenchmarkSecretsDetection16KB",
        "BenchmarkRegexReplace16KB",
        "BenchmarkDenyList16KB",
    ),
}

# "BenchmarkX-2   1000   1234 ns/op   12.5 MB/s   64 B/op   2 allocs/op" (MB/s, B/op,
# allocs/op each optional; sub-benchmarks keep their "/sub" part in the name).
_LINE = re.compile(r"^(Benchmark[^\s]+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$")
_METRIC = re.compile(r"([\d.]+) (MB/s|B/op|allocs/op)")
_PKG = re.compile(r"^pkg: (\S+)")
_FAIL = re.compile(r"^FAIL\s+(\S+)\s+\[(.+)\]")


@dataclass(frozen=True)
class GoBenchResult:
    name: str
    package: str
    status: str  # ok | missing | error
    ns_per_op: float | None = None
    iterations: int | None = None
    mb_per_s: float | None = None
    bytes_per_op: float | None = None
    allocs_per_op: float | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def parse(output: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Benchmark lines by name (with their package), and failed packages with the reason."""
    found: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    pkg = ""
    for line in output.splitlines():
        m = _PKG.match(line)
        if m:
            pkg = m.group(1)
            continue
        m = _FAIL.match(line)
        if m:
            failed[m.group(1)] = m.group(2)
            continue
        m = _LINE.match(line.strip())
        if not m:
            continue
        metrics = {unit: float(v) for v, unit in _METRIC.findall(m.group(4))}
        found[m.group(1)] = {
            "package": pkg,
            "iterations": int(m.group(2)),
            "ns_per_op": float(m.group(3)),
            "mb_per_s": metrics.get("MB/s"),
            "bytes_per_op": metrics.get("B/op"),
            "allocs_per_op": metrics.get("allocs/op"),
        }
    return found, failed


def _failure_detail(output: str, pkg: str, failed: dict[str, str]) -> str:
    """The reason a package produced no benchmarks: go's verdict plus the first errors."""
    lines = output.splitlines()
    head = failed.get(pkg, "go test did not run")
    for i, line in enumerate(lines):
        if line.strip() == f"# {pkg}" or line.startswith(f"# {pkg} "):
            return head + ": " + " | ".join(x.strip() for x in lines[i + 1 : i + 4])
    tail = [x for x in lines if x.strip()][-1:]
    return head + (": " + tail[0] if tail else "")


def _pkg_path(directory: str) -> str:
    return MODULE + "/" + directory.removeprefix("./")


def run(repo: Path, benchtime: str, go: str = "go", timeout_s: float = 420.0) -> dict[str, Any]:
    """Runs every listed benchmark in one `go test` (packages build in parallel)."""
    names = [n for group in BENCHMARKS.values() for n in group]
    dirs = [d for d in BENCHMARKS if (repo / d).is_dir()]
    pattern = "^(" + "|".join(names) + ")$"
    cmd = [go, "test", "-run", "^$", "-bench", pattern, "-benchmem", f"-benchtime={benchtime}", "-count=1", *dirs]
    try:
        proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=timeout_s)
        output = proc.stdout + proc.stderr
    except FileNotFoundError:
        output, proc = f"{go}: not found", None
    except subprocess.TimeoutExpired as exc:
        output, proc = f"timed out after {timeout_s:.0f}s\n{exc.stdout or ''}", None
    found, failed = parse(output)
    results: dict[str, dict[str, Any]] = {}
    for directory, group in BENCHMARKS.items():
        pkg = _pkg_path(directory)
        for name in group:
            hits = {k: v for k, v in found.items() if k == name or k.startswith(name + "/")}
            if hits:
                for full, values in hits.items():
                    results[full] = GoBenchResult(name=full, status="ok", **values).as_dict()
            elif pkg in failed or proc is None:
                results[name] = GoBenchResult(
                    name=name, package=pkg, status="error", detail=_failure_detail(output, pkg, failed)
                ).as_dict()
            else:
                results[name] = GoBenchResult(name=name, package=pkg, status="missing").as_dict()
    return {
        "command": " ".join(cmd),
        "benchtime": benchtime,
        "exit_code": proc.returncode if proc is not None else None,
        "benchmarks": results,
        "output_tail": "\n".join(output.strip().splitlines()[-40:]),
    }
