"""gRPC and Unix-socket external plugins, both directions, against upstream cpex 0.1.4.

Ours → upstream: a TenantPluginManager with a ``kind: external`` entry (``grpc:`` over TCP or a
Unix socket, ``unix_socket:``) calls upstream's server runtime hosting ``data/interop_plugin.py``.
Upstream → ours: upstream's PluginManager, in its own virtualenv, calls our Go
cpex-plugin-server hosting the Go built-ins of ``data/go_server.yaml``. Run with
``make test-interop``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, free_port, server_env, short_socket_path, stop, upstream_python, wait_listening
from cpex.framework import (
    GlobalContext,
    PluginError,
    PluginViolationError,
    TenantPluginManager,
    ToolPreInvokePayload,
)

pytestmark = pytest.mark.interop

UPSTREAM = "0.1.4-grpc"
TRANSPORTS = ["grpc-tcp", "grpc-uds", "unix"]


class UpstreamServer:
    """Upstream 0.1.4's gRPC or Unix-socket runtime serving data/server.yaml."""

    def __init__(self, transport: str) -> None:
        python = upstream_python(UPSTREAM)
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.update(server_env())
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
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(DATA), stdin=subprocess.DEVNULL, stderr=sys.stderr)
        wait_listening(self.proc, port=None if self.path else self.port, path=self.path, what=f"upstream {transport} runtime")

    def section(self, transport: str) -> dict[str, Any]:
        if transport == "grpc-tcp":
            return {"grpc": {"target": f"127.0.0.1:{self.port}"}}
        if transport == "grpc-uds":
            return {"grpc": {"uds": str(self.path)}}
        # upstream's Unix-socket client takes no config from the server: the entry lists the hooks
        return {"unix_socket": {"path": str(self.path), "timeout": 5}, "hooks": ["tool_pre_invoke", "tool_post_invoke"],
                "mode": "sequential"}


def write_config(tmp_path: Path, entry: dict[str, Any]) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry], "plugin_settings": {"plugin_timeout": 30}}))
    return str(path)


@pytest.fixture(params=TRANSPORTS)
def upstream_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, UpstreamServer]]:
    server = UpstreamServer(request.param)
    yield request.param, server
    stop(server.proc)


@pytest.fixture
async def manager(upstream_server: tuple[str, UpstreamServer], tmp_path: Path) -> AsyncIterator[TenantPluginManager]:
    transport, server = upstream_server
    entry = {"name": "InteropGuard", "kind": "external", "priority": 2, **server.section(transport)}
    m = TenantPluginManager(write_config(tmp_path, entry), timeout=5)
    await m.initialize()
    yield m
    await m.shutdown()


async def test_config(manager: TenantPluginManager) -> None:
    plugin = manager.get_plugin("InteropGuard")
    assert plugin is not None
    assert plugin.config.kind == "external"
    assert plugin.config.hooks == ["tool_pre_invoke", "tool_post_invoke"]
    assert plugin.config.priority == 2, "the local entry wins"


async def test_allow_sends_the_request_facts(manager: TenantPluginManager) -> None:
    gc = GlobalContext(request_id="r1", state={"from_client": "client"})
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={"a": 1}), gc)
    assert result.continue_processing and result.violation is None
    assert result.modified_payload is None
    assert result.metadata["request_id"] == "r1"
    assert result.metadata["config"] == {"level": "strict"}


async def test_block_with_violation(manager: TenantPluginManager) -> None:
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="block", args={}),
                                          GlobalContext(request_id="r2"))
    assert not result.continue_processing
    assert result.violation is not None
    assert result.violation.code == "INTEROP_BLOCK"
    assert result.violation.details == {"tool": "block"}
    assert result.violation.plugin_name == "InteropGuard"
    with pytest.raises(PluginViolationError):
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="block", args={}),
                                  GlobalContext(request_id="r3"), violations_as_exceptions=True)


async def test_modify(manager: TenantPluginManager) -> None:
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="modify", args={"x": "y"}),
                                          GlobalContext(request_id="r4"))
    assert result.continue_processing
    assert isinstance(result.modified_payload, ToolPreInvokePayload)
    assert result.modified_payload.args == {"x": "changed by server"}


async def test_context_round_trip_within_one_hook(manager: TenantPluginManager) -> None:
    gc = GlobalContext(request_id="r5", state={"from_client": "client"})
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={}), gc)
    # the interop plugin reports the state after its own write (tests/interop/data/interop_plugin.py)
    assert result.metadata["client_state"] == {"from_client": "client", "from_server": "client+server"}, \
        "the global state reaches the server"
    assert gc.state["from_server"] == "client+server", "and the server's change comes back"


async def test_remote_error_is_a_plugin_error(manager: TenantPluginManager) -> None:
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="error", args={}),
                                  GlobalContext(request_id="r6"))
    assert "interop guard failed on purpose" in str(info.value)
    assert info.value.error.plugin_name == "InteropGuard"


async def test_a_hanging_plugin_times_out(manager: TenantPluginManager) -> None:
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="hang", args={}),
                                  GlobalContext(request_id="r7"))
    assert info.value.error.plugin_name == "InteropGuard"


async def test_a_dead_server_is_a_clear_error(upstream_server: tuple[str, UpstreamServer], tmp_path: Path) -> None:
    transport, server = upstream_server
    entry = {"name": "InteropGuard", "kind": "external", **server.section(transport)}
    m = TenantPluginManager(write_config(tmp_path, entry), timeout=5)
    await m.initialize()
    try:
        stop(server.proc)
        with pytest.raises(PluginError) as info:
            await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={}),
                                GlobalContext(request_id="r8"))
        assert info.value.error.plugin_name == "InteropGuard"
    finally:
        await m.shutdown()


# --- upstream's clients against our Go server ---------------------------------------------

UPSTREAM_CLIENT = r'''
import asyncio, json, sys
from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload

async def main():
    m = PluginManager(sys.argv[1], timeout=10)
    await m.initialize()
    out = {}
    for case, name, args in [("allow", "hello", {"q": "fine"}), ("block", "t", {"q": "a forbidden word"}),
                             ("modify", "t", {"q": "my secret"})]:
        result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=name, args=args),
                                        GlobalContext(request_id=case))
        out[case] = {
            "continue": result.continue_processing,
            "violation": result.violation.code if result.violation else None,
            "violation_plugin": result.violation.plugin_name if result.violation else None,
            "args": result.modified_payload.args if result.modified_payload else None,
        }
    await m.shutdown()
    print(json.dumps(out))

asyncio.run(main())
'''


class GoServer:
    def __init__(self, binary: Path, transport: str) -> None:
        self.port = free_port()
        self.path: Path | None = None
        args = [str(binary), "--config", str(DATA / "go_server.yaml"), "--log-level", "WARNING"]
        if transport == "unix":
            self.path = short_socket_path("go-unix.sock")
            args += ["--transport", "unix", "--socket", str(self.path)]
        else:
            args += ["--transport", "grpc", "--host", "127.0.0.1", "--port", str(self.port)]
        env = dict(os.environ)
        if transport == "grpc-uds":
            self.path = short_socket_path("go-grpc.sock")
            env["PLUGINS_GRPC_SERVER_UDS"] = str(self.path)
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stderr=sys.stderr)
        wait_listening(self.proc, port=None if self.path else self.port, path=self.path, what=f"Go {transport} server")

    def entries(self, transport: str) -> list[dict[str, Any]]:
        out = []
        for name in ["GoAllow", "GoDeny", "GoRewrite"]:
            if transport == "grpc-tcp":
                out.append({"name": name, "kind": "external", "grpc": {"target": f"127.0.0.1:{self.port}"}})
            elif transport == "grpc-uds":
                out.append({"name": name, "kind": "external", "grpc": {"uds": str(self.path)}})
            else:
                mode = "transform" if name == "GoRewrite" else "sequential"
                out.append({"name": name, "kind": "external", "hooks": ["tool_pre_invoke"], "mode": mode,
                            "unix_socket": {"path": str(self.path)}})
        return out


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_upstream_client_against_our_go_server(transport: str, go_plugin_server: Path, tmp_path: Path) -> None:
    server = GoServer(go_plugin_server, transport)
    try:
        cfg = tmp_path / "client.yaml"
        cfg.write_text(yaml.safe_dump({"plugins": server.entries(transport), "plugin_settings": {"plugin_timeout": 30}}))
        script = tmp_path / "client.py"
        script.write_text(UPSTREAM_CLIENT)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PLUGINS_SSRF_PROTECTION_ENABLED"] = "false"
        done = subprocess.run([str(upstream_python(UPSTREAM)), str(script), str(cfg)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        stop(server.proc)
    assert out["allow"] == {"continue": True, "violation": None, "violation_plugin": None, "args": None}
    assert out["block"]["continue"] is False
    assert out["block"]["violation_plugin"] == "GoDeny"
    assert out["modify"]["continue"] is True
    assert out["modify"]["args"] == {"q": "my [redacted]"}
