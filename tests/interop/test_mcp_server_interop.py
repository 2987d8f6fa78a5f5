"""Upstream cpex's MCP clients (0.1.3 with Python mcp 1.x, 0.1.4 with mcp 2.x) against
OUR server runtime, over stdio and streamable HTTP (on a port and on a Unix socket): each client, run in its own upstream
virtualenv (data/upstream_client.py), must see exactly what it sees from upstream's own
runtime serving the same plugin. Run with ``make test-interop``.
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

from conftest import DATA, REPO, HTTPServer, server_env, upstream_python

pytestmark = pytest.mark.interop

VERSIONS = ["0.1.4", "0.1.3"]
OURS = f"{DATA}{os.pathsep}{REPO / 'python'}"


def run_client(client_python: Path, server_python: Path, ours: bool, transport: str, tmp_path: Path) -> dict[str, Any]:
    server = None
    if transport == "stdio":
        env = server_env({"PLUGINS_TRANSPORT": "stdio"})
        if ours:
            env["PYTHONPATH"] = OURS
        mcp: dict[str, Any] = {"proto": "STDIO", "cmd": [str(server_python), "-m", "cpex.framework.external.mcp.server.runtime"],
                               "env": env, "cwd": str(DATA)}
    elif transport == "http":
        server = HTTPServer(server_python, pythonpath=OURS if ours else None)
        mcp = {"proto": "STREAMABLEHTTP", "url": server.url}
    else:  # streamable HTTP on a Unix socket (the host in the URL is not dialled)
        sock = tmp_path / f"{'ours' if ours else 'upstream'}.sock"
        server = HTTPServer(server_python, uds=sock, pythonpath=OURS if ours else None)
        mcp = {"proto": "STREAMABLEHTTP", "url": "http://localhost/mcp", "uds": str(sock)}
    try:
        config = tmp_path / f"client-{'ours' if ours else 'upstream'}.yaml"
        config.write_text(yaml.safe_dump({"plugins": [{"name": "InteropGuard", "kind": "external", "mcp": mcp, "priority": 2}],
                                          "plugin_settings": {"plugin_timeout": 30}}))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PLUGINS_SSRF_PROTECTION_ENABLED"] = "false"
        proc = subprocess.run([str(client_python), str(DATA / "upstream_client.py"), str(config)], env=env, cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result
    finally:
        if server is not None:
            server.stop()


@pytest.mark.parametrize("transport", ["stdio", "http", "uds"])
@pytest.mark.parametrize("version", VERSIONS)
def test_upstream_client_sees_our_runtime_as_upstreams(version: str, transport: str, tmp_path: Path) -> None:
    client = upstream_python(version)
    ours = run_client(client, Path(sys.executable), True, transport, tmp_path)
    theirs = run_client(client, client, False, transport, tmp_path)
    assert ours == theirs
    # and the cases did run (not both failing alike)
    assert ours["allow"]["continue"] is True and ours["allow"]["metadata"]["config"] == {"level": "strict"}
    assert ours["allow"]["global_state"] == {"from_client": "client", "from_server": "client+server"}, "context round-trip"
    assert ours["post"] == {"state_at_post": "allow"}, "the plugin's state reaches the next hook"
    assert ours["block"]["violation"]["code"] == "INTEROP_BLOCK"
    assert ours["modify"]["args"] == {"x": "changed by server"}
    assert "interop guard failed on purpose" in json.dumps(ours["error"])
    assert ours["after_error"] is True


def test_malformed_and_oversized_calls_get_error_models_and_the_server_keeps_serving() -> None:
    client = upstream_python("0.1.4")
    env = server_env({"PLUGINS_TRANSPORT": "stdio", "PYTHONPATH": OURS, "PATH": os.environ.get("PATH", "")})
    cmd = [sys.executable, "-m", "cpex.framework.external.mcp.server.runtime"]
    proc = subprocess.run([str(client), str(DATA / "raw_mcp_faults.py"), json.dumps(cmd), json.dumps(env)],
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    bad_payload = out["not_an_object_payload"]["answer"]["error"]
    assert bad_payload["code"] == "INVALID_ARGUMENTS" and "payload: want a JSON object" in bad_payload["message"]
    assert bad_payload["plugin_name"] == "InteropGuard"
    assert "plugin_name: missing" in out["missing_plugin"]["answer"]["error"]["message"]
    assert "Unable to find tool_pre_invoke for plugin Nobody" in out["unknown_plugin"]["answer"]["error"]["message"]
    too_big = out["oversized"]["answer"]["error"]
    assert too_big["code"] == "REQUEST_TOO_LARGE" and too_big["plugin_name"] == "InteropGuard"
    assert out["good"]["answer"]["result"]["continue_processing"] is True
