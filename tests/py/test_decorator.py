"""The @hook decorator and its metadata (spec §7.3)."""

from __future__ import annotations

from typing import Any

import cpex.framework
from cpex.framework.decorator import (
    _HOOK_METADATA_ATTR,
    HookMetadata,
    get_hook_metadata,
    has_hook_metadata,
    hook,
)
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.hooks.tools import ToolPreInvokePayload, ToolPreInvokeResult
from cpex.framework.models import PluginPayload, PluginResult


async def _handler(payload: Any, context: Any) -> None:
    return None


def test_hook_is_exported_from_the_package() -> None:
    assert cpex.framework.hook is hook
    assert _HOOK_METADATA_ATTR == "_plugin_hook_metadata"


def test_hook_returns_the_function_unchanged_with_metadata_attached() -> None:
    async def handler(payload: Any, context: Any) -> None:
        return None

    decorated = hook("tool_pre_invoke")(handler)
    assert decorated is handler
    metadata = handler._plugin_hook_metadata
    assert isinstance(metadata, HookMetadata)
    assert metadata.hook_types == ["tool_pre_invoke"]
    assert (metadata.payload_type, metadata.result_type) == (None, None)


def test_hook_accepts_a_sequence_of_hook_types() -> None:
    async def handler(payload: Any, context: Any) -> None:
        return None

    hook(("tool_pre_invoke", "tool_post_invoke"))(handler)
    metadata = get_hook_metadata(handler)
    assert metadata is not None
    assert metadata.hook_types == ["tool_pre_invoke", "tool_post_invoke"]
    assert metadata.matches("tool_post_invoke") and not metadata.matches("prompt_pre_fetch")
    assert metadata.hook_type == "tool_pre_invoke"


def test_hook_metadata_hook_type_is_empty_without_hooks() -> None:
    assert HookMetadata([]).hook_type == ""


def test_hook_records_types_without_registering_them() -> None:
    class CustomPayload(PluginPayload):
        x: int

    async def handler(payload: Any, context: Any) -> None:
        return None

    hook("decorator_test_custom", CustomPayload, PluginResult[CustomPayload])(handler)
    metadata = get_hook_metadata(handler)
    assert metadata is not None and metadata.payload_type is CustomPayload
    assert metadata.result_type is PluginResult[CustomPayload]
    assert not get_hook_registry().is_registered("decorator_test_custom")
    assert get_hook_registry().get_payload_type("decorator_test_custom") is None


def test_metadata_is_visible_through_bound_methods() -> None:
    class Holder:
        @hook("tool_pre_invoke", ToolPreInvokePayload, ToolPreInvokeResult)
        async def handle(self, payload: Any, context: Any) -> None:
            return None

    bound = Holder().handle
    assert has_hook_metadata(bound)
    metadata = get_hook_metadata(bound)
    assert metadata is not None and metadata.payload_type is ToolPreInvokePayload


def test_undecorated_functions_have_no_metadata() -> None:
    assert get_hook_metadata(_handler) is None
    assert not has_hook_metadata(_handler)
