"""Upstream cpex 0.1.4's gRPC and Unix-socket clients against OUR Python-hosted server
runtimes (``cpex.framework.external.{grpc,unix}.server.runtime``: Go transport, Python
plugins): each client, run in the upstream virtualenv, must see exactly what it sees from
upstream's own runtime serving the same plugin (data/upstream_client.py: allow with the
context round trip, the next hook's local state, block, modify, error; then
data/upstream_proto_extras.py: denial metrics, a client timeout). Run with
``make test-interop``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, REPO, free_port, server_env, short_socket_path, stop, upstream_python, wait_listening

pytestmark = pytest.mark.interop

UPSTREAM = "0.1.4-grpc"
OURS = f"{DATA}{os.pathsep}{REPO / 'python'}"
TRANSPORTS = ["grpc-tcp", "grpc-uds", "unix"]


class Runtime:
    """A gRPC or Unix-socket server runtime serving data/server.yaml: ours (this
    interpreter, our package first on the path) or upstream's (its virtualenv)."""

    def __init__(self, transport: str, ours: bool) -> None:
        python = Path(sys.executable) if ours else upstream_python(UPSTREAM)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PLUGINS_")}
        env.update(server_env({"PYTHONPATH": OURS} if ours else None))
        self.port = free_port()
        self.path: Path | None = None
        if transport == "unix":
            self.path = short_socket_path("unix.sock")
            env["PLUGINS_UNIX_SOCKET_PATH"] = str(self.path)
            cmd = [str(python), "-m", "cpex.framework.external.unix.server.runtime"]
        else:
            cmd = [str(python), "-m", "cpex.framework.external.grpc.server.runtime", "--config", env["PLUGINS_CONFIG_PATH"],
                   "--host", "127.0.0.1", "--port", str(self.port)]
            if transport == "grpc-uds":
                self.path = short_socket_path("grpc.sock")
                env["PLUGINS_GRPC_SERVER_UDS"] = str(self.path)
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(DATA), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=sys.stderr)
        wait_listening(self.proc, port=None if self.path else self.port, path=self.path,
                       what=f"{'our' if ours else 'upstream'} {transport} runtime")

    def address(self) -> str:
        return str(self.path) if self.path else f"127.0.0.1:{self.port}"

    def entry(self, transport: str) -> dict[str, Any]:
        e: dict[str, Any] = {"name": "InteropGuard", "kind": "external", "priority": 2}
        if transport == "grpc-tcp":
            e["grpc"] = {"target": f"127.0.0.1:{self.port}"}
        elif transport == "grpc-uds":
            e["grpc"] = {"uds": str(self.path)}
        else:
            e.update(unix_socket={"path": str(self.path), "timeout": 30}, hooks=["tool_pre_invoke", "tool_post_invoke"],
                     mode="sequential")
        return e


def run_upstream(script: str, transport: str, ours: bool, tmp_path: Path) -> dict[str, Any]:
    rt = Runtime(transport, ours)
    try:
        config = tmp_path / f"client-{'ours' if ours else 'upstream'}-{script}.yaml"
        config.write_text(yaml.safe_dump({"plugins": [rt.entry(transport)], "plugin_settings": {"plugin_timeout": 30}}))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PLUGINS_")}
        proc = subprocess.run([str(upstream_python(UPSTREAM)), str(DATA / script), str(config), transport, rt.address()],
                              env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return out
    finally:
        stop(rt.proc)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_upstream_client_sees_our_runtime_as_upstreams(transport: str, tmp_path: Path) -> None:
    ours = run_upstream("upstream_client.py", transport, True, tmp_path)
    theirs = run_upstream("upstream_client.py", transport, False, tmp_path)
    assert ours == theirs
    # and the cases did run (not both failing alike)
    assert ours["allow"]["continue"] is True and ours["allow"]["metadata"]["config"] == {"level": "strict"}
    assert ours["allow"]["global_state"] == {"from_client": "client", "from_server": "client+server"}, "context round-trip"
    assert ours["block"]["violation"]["code"] == "INTEROP_BLOCK"
    assert ours["modify"]["args"] == {"x": "changed by server"}
    assert "interop guard failed on purpose" in json.dumps(ours["error"])
    assert ours["after_error"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_denial_metrics_timeout_and_health(transport: str, tmp_path: Path) -> None:
    ours = run_upstream("upstream_proto_extras.py", transport, True, tmp_path)
    theirs = run_upstream("upstream_proto_extras.py", transport, False, tmp_path)
    health = ours.pop("health"), theirs.pop("health")
    assert ours == theirs
    assert ours["metrics"]["code"] == "INTEROP_METRICS" and ours["metrics"]["continue"] is False
    if transport != "unix":  # upstream's Unix-socket client does not read result_base
        assert ours["metrics"]["denial_metadata"] == {"score": 3, "ratio": 0.5, "flag": True, "big": 2**62}, \
            "typed, sanitised, integers exact beyond 2^53"
    assert ours["timeout"] != "no error"
    if transport != "unix":
        assert ours["after_timeout"] is True
    if transport != "unix":
        serving = "0801"
        assert health[0] == {"/cpex.Health/Check": serving, "/grpc.health.v1.Health/Check": serving}
        assert health[1]["/cpex.Health/Check"] == serving
