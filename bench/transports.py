"""External-plugin transports, ours against upstream cpex 0.1.4, in one run (make bench-transports).

For gRPC over TCP, gRPC over a Unix socket and the Unix-socket transport, each side calls one
no-op plugin through its own client and server: ``ours`` is our PluginManager (the Go core's
client) against our Go cpex-plugin-server serving ``builtin/noop``; ``ours-py`` is our
PluginManager against our Python-hosted server runtime (Go transport, the call queued for
the event loop) serving the Python no-op plugin; upstream's is its PluginManager against
its own server runtime serving the same Python no-op plugin. Each side measures
calls/s and p50/p99 latency of ``invoke_hook`` with 1 and with 64 concurrent callers. The sides
alternate per transport, on the same machine, in the same run.

    python bench/transports.py --ours-python .venv/bin/python --upstream-python .venv-upstream/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRANSPORTS = ["grpc-tcp", "grpc-uds", "unix"]
CALLERS = [1, 64]

# The measuring side: run with the side's own interpreter (its cpex is ours or upstream's).
CHILD = r"""
import asyncio, json, statistics, sys, time
from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload

async def measure(m, callers, calls):
    lat = []
    async def worker(n):
        for i in range(n):
            t = time.perf_counter()
            await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="noop", args={"q": "x"}),
                                GlobalContext(request_id=str(i)))
            lat.append(time.perf_counter() - t)
    per = max(1, calls // callers)
    start = time.perf_counter()
    await asyncio.gather(*(worker(per) for _ in range(callers)))
    wall = time.perf_counter() - start
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    return {"calls": len(lat), "calls_per_s": len(lat) / wall, "p50_ms": q(0.50), "p99_ms": q(0.99)}

async def main():
    m = PluginManager(sys.argv[1], timeout=30)
    await m.initialize()
    await measure(m, 8, 200)  # warm up
    out = {str(c): await measure(m, c, int(sys.argv[2]) if c == 1 else int(sys.argv[3])) for c in (1, 64)}
    await m.shutdown()
    print(json.dumps(out))

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(proc: subprocess.Popen[bytes], port: int | None, path: Path | None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if path is not None:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(path))
            else:
                socket.create_connection(("127.0.0.1", port or 0), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not listen within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_server(side: str, transport: str, work: Path, go_server: Path, upstream_python: str,
                 ours_python: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    port = free_port()
    path = work / f"{side}-{transport}.sock" if transport != "grpc-tcp" else None
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PLUGINS_LOG_LEVEL"] = "ERROR"
    if side == "ours":  # the Go server, Go plugin
        cfg = work / "ours-server.yaml"
        cfg.write_text("plugins:\n  - {name: noop, kind: builtin/noop, hooks: [tool_pre_invoke], mode: sequential}\n")
        cmd = [str(go_server), "--config", str(cfg), "--log-level", "ERROR"]
        if transport == "unix":
            cmd += ["--transport", "unix", "--socket", str(path)]
        else:
            cmd += ["--transport", "grpc", "--host", "127.0.0.1", "--port", str(port)]
            if path is not None:
                env["PLUGINS_GRPC_SERVER_UDS"] = str(path)
    else:  # a Python runtime (ours-py: ours; upstream: upstream's), Python plugin
        python = upstream_python if side == "upstream" else ours_python
        cfg = work / f"{side}-server.yaml"
        cfg.write_text("plugins:\n  - {name: noop, kind: bench_plugins.noop.NoopPlugin, hooks: [tool_pre_invoke], mode: sequential}\n")
        env["PYTHONPATH"] = str(REPO / "bench")
        if side == "ours-py":
            env["PYTHONPATH"] += os.pathsep + str(REPO / "python")
        env["PLUGINS_CONFIG_PATH"] = str(cfg)
        if transport == "unix":
            env["PLUGINS_UNIX_SOCKET_PATH"] = str(path)
            cmd = [python, "-m", "cpex.framework.external.unix.server.runtime"]
        else:
            cmd = [python, "-m", "cpex.framework.external.grpc.server.runtime", "--config", str(cfg),
                   "--host", "127.0.0.1", "--port", str(port)]
            if path is not None:
                env["PLUGINS_GRPC_SERVER_UDS"] = str(path)
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(proc, None if path else port, path)
    if transport == "grpc-tcp":
        section: dict[str, Any] = {"grpc": {"target": f"127.0.0.1:{port}"}}
    elif transport == "grpc-uds":
        section = {"grpc": {"uds": str(path)}}
    else:
        section = {"unix_socket": {"path": str(path)}, "hooks": ["tool_pre_invoke"], "mode": "sequential"}
    return proc, section


def run_side(side: str, python: str, entry: dict[str, Any], work: Path, calls1: int, calls64: int) -> dict[str, Any]:
    cfg = work / "client.yaml"
    cfg.write_text(json.dumps({"plugins": [entry], "plugin_settings": {"plugin_timeout": 30}}))
    script = work / "child.py"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if side != "upstream":
        env["PYTHONPATH"] = str(REPO / "python")  # the checkout's package and built extension
    env["PLUGINS_LOG_LEVEL"] = "ERROR"
    done = subprocess.run([python, str(script), str(cfg), str(calls1), str(calls64)], env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours-python", required=True)
    ap.add_argument("--upstream-python", required=True)
    ap.add_argument("--calls", type=int, default=2000, help="calls with 1 caller (64 callers make 4x as many)")
    ap.add_argument("--sides", default="ours,ours-py,upstream", help="comma-separated: ours, ours-py, upstream")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "transports"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cpex-tr-"))
    go_server = work / "cpex-plugin-server"
    subprocess.run(["go", "build", "-o", str(go_server), "./cmd/cpex-plugin-server"], cwd=REPO, check=True)
    results: dict[str, dict[str, Any]] = {}
    for transport in TRANSPORTS:
        for side in args.sides.split(","):
            python = args.upstream_python if side == "upstream" else args.ours_python
            proc, section = start_server(side, transport, work, go_server, args.upstream_python, args.ours_python)
            try:
                entry = {"name": "noop", "kind": "external", **section}
                results[f"{transport}/{side}"] = run_side(side, python, entry, work, args.calls, args.calls * 4)
            finally:
                stop(proc)
            print(f"{transport:9} {side:9} " + "  ".join(
                f"{c} caller(s): {r['calls_per_s']:8.0f}/s p50 {r['p50_ms']:6.2f} ms p99 {r['p99_ms']:6.2f} ms"
                for c, r in results[f"{transport}/{side}"].items()), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| transport | side | callers | calls/s | p50 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
    for key, by_callers in results.items():
        transport, side = key.split("/")
        for c, r in by_callers.items():
            lines.append(f"| {transport} | {side} | {c} | {r['calls_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
