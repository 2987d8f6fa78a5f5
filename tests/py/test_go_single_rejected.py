"""A Go plugin's modified payload that its model rejects (invoke_hook_for_plugin, one
crossing per call, _goplugin.py): the hook's error, decided and counted once, exactly as
when the hook is awaited on the general path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import field_validator

from counting import outcome_counts
from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
from test_go_single import manager_of as single_manager

HOOK = "tool_pre_invoke"


class NoRedactions(ToolPreInvokePayload):
    """A payload model that refuses the PII filter's rewrite."""

    @field_validator("args")
    @classmethod
    def _unredacted(cls, value: Any) -> Any:
        if "[REDACTED]" in str(value):
            raise ValueError("redacted arguments are not accepted")
        return value


async def manager_of(name: str, on_error: str, fast: bool) -> TenantPluginManager:
    return await single_manager(name, "pii", "sequential", on_error, fast)


def counts(name: str) -> dict[str, int]:
    return outcome_counts(name, HOOK)


async def call(manager: TenantPluginManager, name: str) -> Any:
    payload = NoRedactions(name="search", args={"q": "mail a.user@example.com"})
    try:
        result = await manager.invoke_hook_for_plugin(name, HOOK, payload, GlobalContext(request_id="r"))
    except Exception as exc:  # noqa: BLE001 - compared by type and text
        return ("raised", type(exc).__name__, str(exc).replace(name, "<plugin>"))
    return (result.continue_processing, result.modified_payload, result.violation)


@pytest.mark.parametrize("on_error", ["fail", "ignore"])
async def test_a_rejected_payload_is_one_error_counted_once(on_error: str, request: pytest.FixtureRequest) -> None:
    tag = f"{request.node.name}-"
    fast = await manager_of(tag + "fast", on_error, fast=True)
    general = await manager_of(tag + "general", on_error, fast=False)
    got = [await call(fast, tag + "fast") for _ in range(2)]
    want = [await call(general, tag + "general") for _ in range(2)]
    assert got == want
    if on_error == "fail":
        assert got[0][0] == "raised" and "redacted arguments are not accepted" in got[0][2]
    assert counts(tag + "fast") == counts(tag + "general")
    assert sum(counts(tag + "fast").values()) == 2, "each call counted once"
