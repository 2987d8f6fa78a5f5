"""What the driver assumes of pydantic when it builds models without validation.

The driver builds results, context snapshots and execution records by writing
BaseModel's instance slots through their descriptors (cheaper than ``model_construct``;
numbers in scripts/pydantic_construct_timing.py). That holds only while pydantic keeps
those four slots and the models need no private-attribute or extra bookkeeping. These
checks name the assumption so that a pydantic release that breaks it fails here, in the
range run of scripts/check-pydantic-range.sh, rather than as a half-built object.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    PluginContext,
    PluginMode,
    PluginResult,
)

SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def slot_built(cls: type[Any], values: dict[str, Any]) -> Any:
    obj = object.__new__(cls)
    for slot, value in zip(SLOTS, (values, set(values), None, None), strict=True):
        BaseModel.__dict__[slot].__set__(obj, value)
    return obj


def test_basemodel_has_exactly_the_slots_the_driver_writes() -> None:
    assert tuple(BaseModel.__slots__) == SLOTS
    for slot in SLOTS:
        assert hasattr(BaseModel.__dict__[slot], "__set__"), slot


@pytest.mark.parametrize("cls", [ControlExecutionRecord, GlobalContext, PluginContext, PluginResult])
def test_models_need_no_private_or_extra_bookkeeping(cls: type[BaseModel]) -> None:
    assert not cls.__private_attributes__
    assert cls.model_config.get("extra") != "allow"


@pytest.mark.parametrize("model", [
    PluginResult(modified_payload=None),
    PluginResult(continue_processing=False, metadata={"a": 1}, retry_delay_ms=5),
    GlobalContext(request_id="r", user={"id": "u"}, state={"k": 1}, metadata={"m": 2}),
    ControlExecutionRecord(
        plugin_id="id", plugin_name="p", plugin_kind="k", hook_name="tool_pre_invoke",
        mode=PluginMode.SEQUENTIAL, status=ControlExecutionStatus.COMPLETED, config_keys=["a"],
    ),
], ids=lambda m: type(m).__name__)
def test_slot_writes_build_what_model_construct_builds(model: BaseModel) -> None:
    values = dict(model.__dict__)
    cls = type(model)
    fast, slow = slot_built(cls, dict(values)), cls.model_construct(**values)
    assert list(fast.__dict__) == list(slow.__dict__) == list(cls.model_fields)
    assert fast.__dict__ == slow.__dict__
    assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
    assert fast.__pydantic_extra__ is None and slow.__pydantic_extra__ is None
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    # and it behaves as a model: equality, dump, copy, validation of a copy
    assert fast == slow == model
    assert fast.model_dump() == model.model_dump()
    assert fast.model_copy(update={}) == model
    assert cls.model_validate(fast.model_dump()) == cls.model_validate(model.model_dump())
