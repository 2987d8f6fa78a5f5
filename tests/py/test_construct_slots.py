"""The driver builds result objects by writing pydantic's instance slots (results._construct),
six times cheaper than ``model_construct`` on the per-plugin path. These tests pin that the
objects are exactly ``model_construct``'s on the installed pydantic (pyproject: >=2.7,<3)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from cpex.framework._engine.results import _construct, _records, empty_chain_result
from cpex.framework.models import ControlExecutionRecord, GlobalContext, PluginContext, PluginResult


def _state(obj: Any) -> tuple[Any, ...]:
    return (type(obj), obj.__dict__, obj.__pydantic_fields_set__, obj.__pydantic_extra__, obj.__pydantic_private__)


def test_the_pinned_range_holds() -> None:
    major, minor = (int(x) for x in pydantic.VERSION.split(".")[:2])
    assert major == 2 and minor >= 7


@pytest.mark.parametrize("cls, values", [
    (PluginResult, {"continue_processing": False, "modified_payload": None, "modified_extensions": None,
                    "violation": None, "metadata": {"a": 1}, "denial_metadata": None, "background_tasks": [],
                    "http_headers": None, "retry_delay_ms": 5, "executions": []}),
    (PluginContext, {"state": {}, "global_context": GlobalContext(request_id="r"), "metadata": {}}),
])
def test_slot_writes_build_what_model_construct_builds(cls: type, values: dict[str, Any]) -> None:
    assert _state(_construct(cls, dict(values))) == _state(cls.model_construct(**values))


def test_records_and_the_empty_result_equal_validated_objects() -> None:
    raw = {"plugin_id": "u", "plugin_name": "p", "plugin_kind": "k", "hook_name": "h", "mode": "sequential",
           "status": "completed", "requested_allow": True, "effective_allow": True, "matched": False,
           "applied": False, "payload_modified": False, "extensions_modified": False, "duration_ns": 5,
           "reason": None, "error_code": None, "config_keys": []}
    [rec] = _records([dict(raw)])
    assert _state(rec)[:3] == _state(ControlExecutionRecord(**raw))[:3]
    assert _state(empty_chain_result())[1:3] == _state(PluginResult(modified_payload=None))[1:3]
