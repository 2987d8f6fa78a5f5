"""Go guards are bounded and never allow what they cannot read (issue 10, items 4 and 9).

- a user pattern too costly to run is a load error naming the plugin, key and pattern;
- a guard that runs out of time ends in the executor's timeout, not in an allow;
- a chain of Go guards given a payload that is not a model (a str, None) fails like a
  Python plugin that raises on it: PluginError under on_error: fail.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import (
    GlobalContext,
    PluginError,
    TenantPluginManager,
    ToolPreInvokePayload,
)


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(body)
    return str(path)


def regex_config(pattern: str, on_error: str = "fail") -> str:
    return (
        "plugins:\n"
        "  - name: Replacer\n"
        "    kind: builtin/regex_replace\n"
        "    hooks: [tool_pre_invoke]\n"
        f"    on_error: {on_error}\n"
        "    config:\n"
        "      words:\n"
        f"        - search: '{pattern}'\n"
        "          replace: 'y'\n"
    )


async def test_costly_pattern_is_a_load_error_naming_plugin_key_and_pattern(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    from cpex.framework.settings import settings

    settings.cache_clear()
    manager = TenantPluginManager(write(tmp_path, regex_config("[a-z]{1000}x")))
    with pytest.raises(Exception) as info:
        await manager.initialize()
    text = str(info.value)
    assert "Replacer" in text and "words.0.search" in text and "[a-z]{1000}x" in text
    assert "pattern too costly" in text


@pytest.mark.parametrize("on_error", ["fail", "ignore"])
async def test_guard_out_of_time_is_the_executors_timeout(tmp_path: Path, on_error: str) -> None:
    # A pattern within the limit that still costs seconds on 200 KB: the guard stops at
    # its deadline; the executor reports the timeout (fail) or swallows it (ignore) as
    # for any plugin, and the call returns near the deadline, not seconds later.
    manager = TenantPluginManager(write(tmp_path, regex_config("[a-z]{500}x", on_error)), timeout=0.2)  # type: ignore[arg-type]
    await manager.initialize()
    payload = ToolPreInvokePayload(name="t", args={"text": "a" * 200_000})
    start = time.monotonic()
    try:
        if on_error == "fail":
            with pytest.raises(PluginError) as info:
                await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r"))
            assert "exceeded 0.2s timeout" in str(info.value)
        else:
            result, _ = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r"))
            assert result.modified_payload is None
    finally:
        print(f"regex_replace [a-z]{{500}}x on 200 KB, on_error {on_error}: {time.monotonic() - start:.3f} s (timeout 0.2 s)")
        await manager.shutdown()


GO_GUARDS = """
plugins:
  - name: DenyWords
    kind: builtin/deny_list
    hooks: [tool_pre_invoke]
    on_error: {on_error}
    config: {{words: [forbidden]}}
  - name: Secrets
    kind: builtin/secrets_detection
    hooks: [tool_pre_invoke]
    on_error: {on_error}
"""


@pytest.mark.parametrize("payload", ["x", None])
async def test_go_guards_refuse_a_payload_they_cannot_read(tmp_path: Path, payload: Any) -> None:
    manager = TenantPluginManager(write(tmp_path, GO_GUARDS.format(on_error="fail")))
    await manager.initialize()
    try:
        with pytest.raises(PluginError) as info:
            await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r"))
        got = "a string" if isinstance(payload, str) else "null"
        assert f"Go plugin DenyWords cannot read its payload: want an object, got {got}" in str(info.value)
        assert info.value.error.plugin_name == "DenyWords"
    finally:
        await manager.shutdown()


@pytest.mark.parametrize("payload", ["x", None])
async def test_go_guards_under_ignore_swallow_it_like_any_error(tmp_path: Path, payload: Any) -> None:
    # on_error: ignore is the operator's choice to carry on past a failing plugin, for
    # Python and Go plugins alike (cpex 0.1 §30.4: recorded as a clean allow).
    manager = TenantPluginManager(write(tmp_path, GO_GUARDS.format(on_error="ignore")))
    await manager.initialize()
    try:
        result, _ = await manager.invoke_hook("tool_pre_invoke", payload, GlobalContext(request_id="r"))
        assert result.continue_processing is True
    finally:
        await manager.shutdown()


async def test_direct_call_of_a_go_guard_on_a_str_payload_raises(tmp_path: Path) -> None:
    from cpex.framework import PluginContext

    manager = TenantPluginManager(write(tmp_path, GO_GUARDS.format(on_error="fail")))
    await manager.initialize()
    try:
        plugin = manager._registry.get_plugin("DenyWords").plugin
        with pytest.raises(Exception) as info:
            await plugin.tool_pre_invoke("x", PluginContext(global_context=GlobalContext(request_id="r")))
        assert "cannot read its payload" in str(info.value)
    finally:
        await manager.shutdown()
