"""Our MCP client (the Go core) against upstream cpex's MCP server runtime.

For each upstream version (its own virtualenv from PyPI) and each transport, a
TenantPluginManager with a ``kind: external`` entry calls upstream's runtime serving
``data/interop_plugin.py``. Run with ``make test-interop``.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, HTTPServer, server_env, upstream_python
from cpex.framework import (
    GlobalContext,
    PluginError,
    PluginViolationError,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)

pytestmark = pytest.mark.interop

VERSIONS = ["0.1.4", "0.1.3"]
TRANSPORTS = ["stdio", "http", "uds"]


def entry(python: Path, transport: str, server: HTTPServer | None, **extra: Any) -> dict[str, Any]:
    if transport == "stdio":
        mcp: dict[str, Any] = {
            "proto": "STDIO",
            "cmd": [str(python), "-m", "cpex.framework.external.mcp.server.runtime"],
            "env": server_env({"PLUGINS_TRANSPORT": "stdio"}),
            "cwd": str(DATA),
        }
    else:
        assert server is not None
        mcp = {"proto": "STREAMABLEHTTP", "url": server.url}
        if server.uds is not None:
            mcp = {"proto": "STREAMABLEHTTP", "url": "http://localhost/mcp", "uds": str(server.uds)}
    return {"name": "InteropGuard", "kind": "external", "mcp": mcp, **extra}


def write_config(tmp_path: Path, *entries: dict[str, Any]) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(yaml.safe_dump({"plugins": list(entries), "plugin_settings": {"plugin_timeout": 30}}))
    return str(path)


@pytest.fixture(params=[(v, t) for v in VERSIONS for t in TRANSPORTS], ids=lambda p: f"upstream-{p[0]}-{p[1]}")
async def manager(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TenantPluginManager]:
    version, transport = request.param
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")  # the server is on 127.0.0.1
    python = upstream_python(version)
    server = None
    if transport == "http":
        server = HTTPServer(python)
    elif transport == "uds":
        # a short path: a socket path has at most 107 bytes
        server = HTTPServer(python, uds=Path(tempfile.mkdtemp(prefix="cpex-")) / "plugins.sock")
    try:
        m = TenantPluginManager(write_config(tmp_path, entry(python, transport, server, priority=2)), timeout=10)
        await m.initialize()
        yield m
        await m.shutdown()
    finally:
        if server:
            server.stop()


async def test_remote_config_is_merged_under_the_local_entry(manager: TenantPluginManager) -> None:
    plugin = manager.get_plugin("InteropGuard")
    assert plugin is not None
    assert plugin.config.kind == "external"
    assert plugin.config.hooks == ["tool_pre_invoke", "tool_post_invoke"], "hooks come from the server"
    assert plugin.config.priority == 2, "the local entry wins"
    assert plugin.config.description == "served by upstream's runtime"
    assert manager.has_hooks_for("tool_pre_invoke") and manager.has_hooks_for("tool_post_invoke")


async def test_allow_sends_the_request_facts(manager: TenantPluginManager) -> None:
    gc = GlobalContext(request_id="r1", state={"from_client": "client"})
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={"a": 1}), gc)
    assert result.continue_processing and result.violation is None
    assert result.modified_payload is None
    assert result.metadata["request_id"] == "r1"
    assert result.metadata["config"] == {"level": "strict"}, "the server runs the plugin with its own config"


async def test_context_round_trip(manager: TenantPluginManager) -> None:
    gc = GlobalContext(request_id="r1", state={"from_client": "client"})
    result, table = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={}), gc)
    # the interop plugin reports the state after its own write (tests/interop/data/interop_plugin.py)
    assert result.metadata["client_state"] == {"from_client": "client", "from_server": "client+server"}
    assert gc.state["from_server"] == "client+server"
    post, _ = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="allow", result={}), gc,
                                        local_contexts=table)
    assert post.metadata.get("state_at_post") == "allow", "the plugin's state survives to the next hook"


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


async def test_modify_payload(manager: TenantPluginManager) -> None:
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="modify", args={"x": "y"}),
                                          GlobalContext(request_id="r4"))
    assert result.modified_payload is not None
    assert result.modified_payload.args == {"x": "changed by server"}


async def test_remote_error_is_a_plugin_error(manager: TenantPluginManager) -> None:
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="error", args={}),
                                  GlobalContext(request_id="r5"))
    assert "interop guard failed on purpose" in str(info.value)
    assert info.value.error.plugin_name == "InteropGuard"


async def test_a_server_that_never_answers_times_out(manager: TenantPluginManager) -> None:
    manager._executor.timeout = 1  # type: ignore[attr-defined]
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="hang", args={}),
                                  GlobalContext(request_id="r6"))
    assert info.value.error.plugin_name == "InteropGuard"


async def test_a_server_that_dies_mid_call_gives_a_plugin_error(manager: TenantPluginManager) -> None:
    # The client restarts (stdio) or reconnects (HTTP) once and retries; the server dies
    # again, or is gone: a PluginError naming the plugin, no hang.
    with pytest.raises(PluginError) as info:
        await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="die", args={}),
                                  GlobalContext(request_id="r7"))
    assert "InteropGuard" in str(info.value) or info.value.error.plugin_name == "InteropGuard"


async def test_a_missing_script_fails_at_load(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"name": "Gone", "kind": "external",
                                     "mcp": {"proto": "STDIO", "script": str(tmp_path / "no_such_server.py")}})
    with pytest.raises(Exception) as info:
        m = TenantPluginManager(config)
        await m.initialize()
    assert "no_such_server.py" in str(info.value)
