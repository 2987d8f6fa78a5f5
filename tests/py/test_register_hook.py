"""A hook type registered from Python (HookRegistry.register_hook) reaches the Go core,
whether the core starts before or after the registration, and a custom hook runs end to
end with a Go plugin and a Python plugin. What core does with the registration (a Go
plugin's result taken whole under a policy) is tests/go/register_hook_test.go: no
built-in Go plugin that modifies payloads accepts a custom hook."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cpex import _core
from cpex.framework import GlobalContext, Plugin, PluginContext, PluginPayload, PluginResult, hook
from cpex.framework.hooks.registry import get_hook_registry, other_result_type
from cpex.framework.manager import PluginManager


class Ticket(PluginPayload):
    subject: str
    note: str = ""


class Verdict(PluginPayload):
    allowed: bool
    subject: str = ""


SEEN: list[str] = []


class Judge(Plugin):
    """Returns a Verdict (another payload type) for the ticket it saw."""

    @hook(["case_custom_decide"])
    async def decide(self, payload: Ticket, context: PluginContext) -> PluginResult:
        SEEN.append(payload.subject)
        return PluginResult(modified_payload=Verdict(allowed=True, subject=payload.subject))


def core_info(hook_type: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(_core.native().pybind_HookTypeInfo(hook_type))
    return info


def test_other_result_type_is_read_from_the_result_class() -> None:
    assert other_result_type(Ticket, PluginResult[Verdict])
    assert not other_result_type(Ticket, PluginResult[Ticket])
    assert not other_result_type(Ticket, PluginResult)


def test_registration_reaches_a_running_core() -> None:
    _core.native()
    assert core_info("case_custom_running")["registered"] is False
    get_hook_registry().register_hook("case_custom_running", Ticket, PluginResult[Verdict])
    assert core_info("case_custom_running") == {
        "name": "case_custom_running", "registered": True, "match_set": "", "match_attr": "",
        "decision": False, "other_result_type": True}
    get_hook_registry().register_hook("case_custom_running", Ticket, PluginResult[Ticket])
    assert core_info("case_custom_running")["other_result_type"] is False, "re-registration replaces"


def test_builtin_hooks_keep_their_description_in_core() -> None:
    assert core_info("tool_pre_invoke")["match_attr"] == "name"
    assert core_info("http_auth_check_permission")["decision"] is True
    assert core_info("http_pre_request")["other_result_type"] is True
    assert core_info("tool_post_invoke")["other_result_type"] is False


async def test_custom_hook_end_to_end_go_then_python(tmp_path: Path) -> None:
    SEEN.clear()
    get_hook_registry().register_hook("case_custom_decide", Ticket, PluginResult[Verdict])
    path = tmp_path / "plugins.yaml"
    path.write_text("plugins:\n"
                    "  - {name: go_first, kind: builtin/noop, hooks: [case_custom_decide], priority: 1}\n"
                    "  - {name: judge, kind: test_register_hook.Judge, hooks: [case_custom_decide], priority: 2}\n"
                    "  - {name: go_audit, kind: builtin/noop, hooks: [case_custom_decide], mode: audit}\n")
    manager = PluginManager(str(path))
    await manager.initialize()
    try:
        result, _ = await manager.invoke_hook("case_custom_decide", Ticket(subject="s"), GlobalContext(request_id="r"))
    finally:
        await manager.shutdown()
    assert SEEN == ["s"]
    assert result.modified_payload == Verdict(allowed=True, subject="s")
    assert [(r.plugin_name, r.payload_modified) for r in result.executions] == [
        ("go_first", False), ("judge", True), ("go_audit", False)]


@pytest.mark.parametrize("register_first", [True, False])
def test_registration_around_the_core_start(register_first: bool) -> None:
    # A fresh interpreter: registering never starts the core; a registration made before
    # the core starts is pushed when it does.
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import test_register_hook as t
        from cpex import _core
        from cpex.framework import PluginResult
        from cpex.framework.hooks.registry import get_hook_registry
        if {register_first}:
            get_hook_registry().register_hook("case_custom_early", t.Ticket, PluginResult[t.Verdict])
            assert not _core.started(), "registering started the core"
        else:
            _core.native()
            get_hook_registry().register_hook("case_custom_early", t.Ticket, PluginResult[t.Verdict])
        print(json.dumps(t.core_info("case_custom_early"), sort_keys=True))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["registered"] is True and info["other_result_type"] is True
