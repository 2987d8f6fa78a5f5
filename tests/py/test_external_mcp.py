"""kind: external over MCP from Python: the core's client against a minimal stdio server.

tests/interop runs the same against upstream cpex's own server runtime (make test-interop).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cpex.framework import GlobalContext, PluginError, TenantPluginManager, ToolPreInvokePayload
from cpex.framework.external.mcp.client import ExternalPlugin
from cpex.framework.loader.config import ConfigLoader

SERVER = Path(__file__).parent / "external" / "mini_mcp_server.py"


def write_config(tmp_path: Path, **extra: Any) -> str:
    entry = {"name": "Mini", "kind": "external", "mcp": {"proto": "STDIO", "script": str(SERVER)}, **extra}
    path = tmp_path / "plugins.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry]}))
    return str(path)


async def started(tmp_path: Path, **extra: Any) -> TenantPluginManager:
    manager = TenantPluginManager(write_config(tmp_path, **extra), timeout=10)
    await manager.initialize()
    return manager


async def call(manager: TenantPluginManager, name: str) -> Any:
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=name, args={}),
                                          GlobalContext(request_id="req-" + name))
    return result


async def test_the_remote_config_is_merged_under_the_local_entry(tmp_path: Path) -> None:
    manager = await started(tmp_path, priority=4)
    try:
        plugin = manager.get_plugin("Mini")
        assert plugin is not None and plugin.config.kind == "external"
        assert plugin.config.hooks == ["tool_pre_invoke"], "the hooks come from the server"
        assert plugin.config.priority == 4, "a key the entry sets wins"
        assert plugin.config.mode == "sequential" and plugin.config.description == "served by mini_mcp_server"
        assert plugin.config.config == {"level": 2}
        assert manager.has_hooks_for("tool_pre_invoke") and not manager.has_hooks_for("tool_post_invoke")
    finally:
        await manager.shutdown()


async def test_hook_calls(tmp_path: Path) -> None:
    manager = await started(tmp_path)
    try:
        allowed = await call(manager, "allow")
        assert allowed.continue_processing
        assert allowed.metadata == {"hook": "tool_pre_invoke", "request_id": "req-allow"}

        blocked = await call(manager, "block")
        assert not blocked.continue_processing
        assert blocked.violation is not None and blocked.violation.code == "MINI"
        assert blocked.violation.plugin_name == "Mini"

        modified = await call(manager, "modify")
        assert modified.modified_payload is not None and modified.modified_payload.args == {"changed": True}

        with pytest.raises(PluginError) as info:
            await call(manager, "error")
        assert "mini failed" in str(info.value)

        with pytest.raises(PluginError) as info:
            await call(manager, "garbage")
        assert "Error trying to decode json" in str(info.value)

        with pytest.raises(PluginError) as info:
            await call(manager, "die")  # dies again after the restart and retry
        assert "Mini" in str(info.value)
    finally:
        await manager.shutdown()


async def test_a_plugin_the_server_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "plugins.yaml"
    path.write_text(yaml.safe_dump({"plugins": [
        {"name": "Stranger", "kind": "external", "mcp": {"proto": "STDIO", "script": str(SERVER)}}]}))
    config = ConfigLoader.load_config(str(path)).plugins[0]
    with pytest.raises(PluginError) as info:
        await ExternalPlugin(config).initialize()
    assert info.value.error.message == "Unable to retrieve configuration for external plugin"
    assert info.value.error.plugin_name == "Stranger"

