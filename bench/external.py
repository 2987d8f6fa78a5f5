"""External plugins over MCP: calls/s and p50/p99 per transport, ours against upstream.

    python bench/external.py --upstream-python .venv-upstream/bin/python   # make bench-external
    python bench/external.py --quick ...                                   # smoke run

One no-op plugin (bench_plugins.noop, configs/s1_one_noop.yaml) runs in an external
plugin server; a client process calls tool_pre_invoke through a ``kind: external``
entry with 1 and with 32 concurrent callers on one manager (bench/external_worker.py),
over stdio, streamable HTTP on 127.0.0.1, and streamable HTTP on a Unix socket. Sides,
measured in the same run, one after the other per transport:

- upstream: cpex 0.1.4's client against cpex 0.1.4's runtime (Python mcp 2.x);
- ours: our client (Go, core/external/mcpclient) against our runtime (Go transport,
  Python plugin drained on the event loop);
- ours-go: our client against the Go-only server (examples/mcp-server) serving the Go
  no-op plugin builtin/noop: the transport without Python on the server side.

Latency is per call as the caller sees it (invoke_hook, manager included). Writes
results/external.json (--quick: external-quick.json) and prints a Markdown table.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SERVER_CONFIG = BENCH_DIR / "configs" / "s1_one_noop.yaml"
GO_SERVER_CONFIG = BENCH_DIR / "configs" / "external_go_noop.yaml"
TRANSPORTS = ("stdio", "http", "uds")
SIDES = ("upstream", "ours", "ours-go")
RUNTIME = ["-m", "cpex.framework.external.mcp.server.runtime"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(pythonpath: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env["PLUGINS_LOG_LEVEL"] = "WARNING"
    env["PLUGINS_SSRF_PROTECTION_ENABLED"] = "false"  # the servers are on 127.0.0.1
    return env


class Side:
    """How one side starts its server and runs its client."""

    def __init__(self, name: str, client_python: str, client_path: str | None, server_cmd: list[str],
                 server_path: str | None, server_config: Path) -> None:
        self.name, self.client_python, self.client_path = name, client_python, client_path
        self.server_cmd, self.server_path, self.server_config = server_cmd, server_path, server_config

    def server_env(self, **extra: str) -> dict[str, str]:
        env = base_env(self.server_path)
        env["PLUGINS_CONFIG_PATH"] = str(self.server_config)
        env.update(extra)
        return env


def wait_listening(proc: subprocess.Popen[bytes], port: int | None, uds: Path | None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"plugin server exited with {proc.returncode}")
        try:
            if uds is not None:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(uds))
            else:
                socket.create_connection(("127.0.0.1", port or 0), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("plugin server did not listen within 60 s")


def run_one(side: Side, transport: str, callers: str, seconds: float, tmp: Path) -> list[dict[str, Any]]:
    server = None
    if transport == "stdio":
        mcp: dict[str, Any] = {"proto": "STDIO", "cmd": side.server_cmd,
                               "env": {k: v for k, v in side.server_env(PLUGINS_TRANSPORT="stdio").items()
                                       if k.startswith(("PLUGINS_", "PYTHONPATH", "PATH", "HOME"))}}
    else:
        port = free_port()
        uds = Path(tempfile.mkdtemp(prefix="cpex-")) / "p.sock" if transport == "uds" else None
        extra = {"PLUGINS_TRANSPORT": "http", "PLUGINS_SERVER_HOST": "127.0.0.1", "PLUGINS_SERVER_PORT": str(port)}
        if uds is not None:
            extra["PLUGINS_SERVER_UDS"] = str(uds)
        server = subprocess.Popen(side.server_cmd, env=side.server_env(**extra), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(server, port, uds)
        mcp = ({"proto": "STREAMABLEHTTP", "url": "http://localhost/mcp", "uds": str(uds)} if uds is not None
               else {"proto": "STREAMABLEHTTP", "url": f"http://127.0.0.1:{port}/mcp"})
    try:
        config = tmp / f"client-{side.name}-{transport}.yaml"
        config.write_text(yaml.safe_dump({"plugins": [{"name": "noop_1", "kind": "external", "mcp": mcp}]}))
        proc = subprocess.run([side.client_python, str(BENCH_DIR / "external_worker.py"), str(config),
                               "--callers", callers, "--seconds", str(seconds)],
                              env=base_env(side.client_path), cwd=str(tmp), capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{side.name} {transport}: client failed:\n{proc.stderr[-3000:]}")
        rows: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
        return rows
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def build_go_server(tmp: Path) -> str:
    out = tmp / "mcp-server"
    subprocess.run(["go", "build", "-o", str(out), "./examples/mcp-server"], cwd=str(REPO), check=True)
    return str(out)


def fmt_us(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def table(rows: list[dict[str, Any]]) -> str:
    by = {(r["transport"], r["side"], r["callers"]): r for r in rows}
    lines = ["| transport | callers | upstream calls/s | upstream p50 / p99 | ours calls/s | ours p50 / p99 "
             "| ours/upstream calls/s | ours, Go server calls/s | Go server p50 / p99 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t in TRANSPORTS:
        for c in sorted({r["callers"] for r in rows}):
            up, ours, go = by.get((t, "upstream", c)), by.get((t, "ours", c)), by.get((t, "ours-go", c))

            def cell(r: dict[str, Any] | None) -> tuple[str, str]:
                if r is None:
                    return "-", "-"
                return f"{r['calls_per_s']:,.0f}", f"{fmt_us(r['p50_us'])} / {fmt_us(r['p99_us'])}"

            ratio = f"{ours['calls_per_s'] / up['calls_per_s']:.1f}×" if up and ours and up["calls_per_s"] else "-"
            lines.append(f"| {t} | {c} | {' | '.join(cell(up))} | {' | '.join(cell(ours))} | {ratio} | {' | '.join(cell(go))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream-python", required=True, help="interpreter with cpex==0.1.4 and mcp>=2")
    p.add_argument("--ours-python", default=sys.executable)
    p.add_argument("--quick", action="store_true", help="1 s per measurement, results/external-quick.json")
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--callers", default="1,32")
    p.add_argument("--only", default=",".join(SIDES), help="sides, comma-separated")
    args = p.parse_args(argv)
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    # absolute, not resolved: a venv's interpreter is found through its own path
    args.upstream_python, args.ours_python = os.path.abspath(args.upstream_python), os.path.abspath(args.ours_python)
    ours_path = f"{REPO / 'python'}{os.pathsep}{BENCH_DIR}"
    with tempfile.TemporaryDirectory(prefix="cpex-bench-external-") as d:
        tmp = Path(d)
        sides = {
            "upstream": Side("upstream", args.upstream_python, None, [args.upstream_python, *RUNTIME], str(BENCH_DIR), SERVER_CONFIG),
            "ours": Side("ours", args.ours_python, str(REPO / "python"), [args.ours_python, *RUNTIME], ours_path, SERVER_CONFIG),
        }
        if "ours-go" in args.only:
            sides["ours-go"] = Side("ours-go", args.ours_python, str(REPO / "python"), [build_go_server(tmp)], None, GO_SERVER_CONFIG)
        rows: list[dict[str, Any]] = []
        started = time.perf_counter()
        for transport in TRANSPORTS:
            for name in SIDES:
                if name not in sides or name not in args.only.split(","):
                    continue
                for r in run_one(sides[name], transport, args.callers, seconds, tmp):
                    rows.append({"transport": transport, "side": name, **r})
                    print(f"{transport:5} {name:8} {r['callers']:>2} callers: {r['calls_per_s']:8,.0f} calls/s "
                          f"p50 {fmt_us(r['p50_us'])} p99 {fmt_us(r['p99_us'])}", flush=True)
    md = table(rows)
    out = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds_per_measurement": seconds,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "loadavg": list(os.getloadavg()),
        "rows": rows,
        "table": md,
    }
    path = BENCH_DIR / "results" / ("external-quick.json" if args.quick else "external.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
