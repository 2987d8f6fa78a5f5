"""The plugin class of {{ cookiecutter.plugin_name }}, called directly (no server needed)."""

import pytest

from cpex.framework import GlobalContext, PluginConfig, PluginContext, ToolPreInvokePayload

from {{ cookiecutter.plugin_slug }}.plugin import {{ cookiecutter.__class_name }}


def make(blocked=()):
    return {{ cookiecutter.__class_name }}(
        PluginConfig(
            name="{{ cookiecutter.plugin_name }}",
            kind="{{ cookiecutter.plugin_slug }}.plugin.{{ cookiecutter.__class_name }}",
            hooks=["tool_pre_invoke"],
            config={"blocked_tools": list(blocked)},
        )
    )


@pytest.mark.asyncio
async def test_allows_other_tools():
    ctx = PluginContext(global_context=GlobalContext(request_id="1"))
    result = await make(["rm"]).tool_pre_invoke(ToolPreInvokePayload(name="echo", args={}), ctx)
    assert result.continue_processing


@pytest.mark.asyncio
async def test_blocks_listed_tool():
    ctx = PluginContext(global_context=GlobalContext(request_id="1"))
    result = await make(["rm"]).tool_pre_invoke(ToolPreInvokePayload(name="rm", args={}), ctx)
    assert not result.continue_processing
    assert result.violation.code == "TOOL_BLOCKED"
