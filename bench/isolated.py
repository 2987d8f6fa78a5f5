"""isolated_venv plugins: calls/s and p50/p99 of one no-op plugin, ours against upstream
cpex 0.1.4, in one run (make bench-isolated; part of make bench).

    python bench/isolated.py --ours-python .venv/bin/python --upstream-python .venv-upstream/bin/python

Three rows, 1 and 64 concurrent callers each:

* upstream host + upstream worker: cpex 0.1.4's IsolatedVenvPlugin (a thread per call,
  one lock-step pipe) and its worker;
* our host + upstream worker: the Go host (core/external/isolated) talking to the very
  same venv and worker, so the difference is the host alone;
* our host + our worker: the Go host and cpex/framework/isolated/worker.py (tasks run
  concurrently in the worker).

The plugin venvs live under bench/results/.isolated/ (gitignored) and are built once:
the one with upstream's cpex from PyPI by whichever host starts first, and reused by the
other through the shared cache key (both hosts use upstream's layout). Results:
bench/results/isolated.json and isolated.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
ROOT = BENCH_DIR / "results" / ".isolated"
UPSTREAM_REQS = "cpex==0.1.4\nmcp>=2\n"

PLUGIN = '''
from cpex.framework import Plugin, PluginResult


class Noop(Plugin):
    async def tool_pre_invoke(self, payload, context):
        return PluginResult()
'''


def _shim_wheel(dest: Path, ours_site: list[str]) -> Path:
    """A local wheel whose .pth puts this checkout's cpex (and its dependencies) on the
    venv's path: the venv's worker is ours, nothing is downloaded."""
    name, version = "cpex_checkout_shim", "0.0.1"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(f"{name}.pth", "\n".join([str(REPO / "python"), *ours_site]) + "\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: cpex-checkout-shim\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: cpex-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", f"{name}.pth,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
    return wheel


def _layout(ours_site: list[str]) -> None:
    """Two plugin packages: isonoop (venv with upstream's cpex), isonoop_ours (ours)."""
    plugins = ROOT / "plugins"
    for pkg, reqs in (("isonoop", UPSTREAM_REQS), ("isonoop_ours", None)):
        d = plugins / pkg
        d.mkdir(parents=True, exist_ok=True)
        (d / "__init__.py").write_text("")
        (d / "plugin.py").write_text(PLUGIN)
        if reqs is None:
            reqs = f"{_shim_wheel(ROOT, ours_site)}\n"
        if not (d / "requirements.txt").exists() or (d / "requirements.txt").read_text() != reqs:
            (d / "requirements.txt").write_text(reqs)
    for pkg in ("isonoop", "isonoop_ours"):
        entry = {
            "name": "Noop",
            "kind": "isolated_venv",
            "hooks": ["tool_pre_invoke"],
            "config": {"class_name": f"{pkg}.plugin.Noop", "requirements_file": "requirements.txt"},
        }
        (ROOT / f"{pkg}.yaml").write_text(json.dumps({"plugins": [entry], "plugin_dirs": [str(plugins)]}))


def _link_upstream_worker() -> None:
    """Upstream's host starts `cpex/framework/isolated/worker.py` relative to its working
    directory: point that path at the worker installed in the plugin's venv."""
    venv = ROOT / "plugins" / "isonoop" / ".venv"
    found = sorted(venv.glob("lib/python3*/site-packages/cpex/framework/isolated/worker.py"))
    if not found:
        raise SystemExit(f"upstream's worker is not installed in {venv}")
    link = ROOT / "cpex" / "framework" / "isolated" / "worker.py"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(found[0])


async def _measure(config: str, calls: int, callers: int) -> dict[str, Any]:
    from cpex.framework import GlobalContext, PluginManager
    from cpex.framework.hooks.tools import ToolPreInvokePayload

    manager = PluginManager(config, timeout=60)
    await manager.initialize()
    payload = ToolPreInvokePayload(name="t", args={})
    try:
        for i in range(100):  # warm-up: worker loaded, plugin instantiated
            await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id=f"w{i}"))
        per_caller = max(1, calls // callers)
        samples: list[int] = []

        async def caller(c: int) -> None:
            for i in range(per_caller):
                t0 = time.perf_counter_ns()
                result, _ = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id=f"{c}-{i}"))
                samples.append(time.perf_counter_ns() - t0)
                if not result.continue_processing:
                    raise RuntimeError("the no-op plugin blocked")

        t0 = time.perf_counter()
        await asyncio.gather(*(caller(c) for c in range(callers)))
        wall = time.perf_counter() - t0
    finally:
        await manager.shutdown()
    samples.sort()
    n = len(samples)
    return {
        "callers": callers,
        "calls": n,
        "calls_per_s": n / wall,
        "p50_us": samples[n // 2] / 1000,
        "p99_us": samples[min(n - 1, int(n * 0.99))] / 1000,
    }


def child(side: str, pkg: str, calls: int) -> None:
    os.chdir(ROOT)  # the workers allow plugin_dirs under the host's working directory
    from cpex.framework.loader import plugin as loader_plugin

    loader_plugin.ALLOWED_PLUGIN_DIRS.add(str(ROOT))
    rows = [asyncio.run(_measure(str(ROOT / f"{pkg}.yaml"), calls, callers)) for callers in (1, 64)]
    print(json.dumps({"side": side, "rows": rows}))


def _run_child(python: str, side: str, pkg: str, calls: int, ours: bool) -> dict[str, Any]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if ours:
        env["PYTHONPATH"] = str(REPO / "python")
    else:
        env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child", side, "--pkg", pkg, "--calls", str(calls)],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ours-python", default=sys.executable)
    ap.add_argument("--upstream-python", default=str(REPO / ".venv-upstream" / "bin" / "python"))
    ap.add_argument("--calls", type=int, default=3200)
    ap.add_argument("--child")
    ap.add_argument("--pkg")
    args = ap.parse_args()
    args.ours_python, args.upstream_python = os.path.abspath(args.ours_python), os.path.abspath(args.upstream_python)
    if args.child:
        child(args.child, args.pkg, args.calls)
        return
    ROOT.mkdir(parents=True, exist_ok=True)
    ours_site = subprocess.run(
        [args.ours_python, "-c", "import site, json; print(json.dumps(site.getsitepackages()))"],
        check=True, capture_output=True, text=True,
    ).stdout
    _layout(list(json.loads(ours_site)) if ours_site.strip() else site.getsitepackages())
    results = []
    # Ours first: it builds (or reuses) the venv with upstream's cpex; upstream's host then
    # finds it valid through the same cache key.
    results.append(_run_child(args.ours_python, "our host + upstream worker", "isonoop", args.calls, True))
    _link_upstream_worker()
    results.append(_run_child(args.upstream_python, "upstream host + upstream worker", "isonoop", args.calls, False))
    results.append(_run_child(args.ours_python, "our host + our worker", "isonoop_ours", args.calls, True))
    (BENCH_DIR / "results" / "isolated.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "| host + worker | callers | calls/s | p50 (µs) | p99 (µs) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for row in r["rows"]:
            lines.append(
                f"| {r['side']} | {row['callers']} | {row['calls_per_s']:,.0f} | {row['p50_us']:,.0f} | {row['p99_us']:,.0f} |"
            )
    table = "\n".join(lines) + "\n"
    (BENCH_DIR / "results" / "isolated.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
