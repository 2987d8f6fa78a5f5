"""Payload models copy themselves without pydantic's detours (_fastmodels.py): every
copy must be the object BaseModel.model_copy builds, on the installed pydantic."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Optional

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from cpex.framework import (
    PluginPayload,
    PromptPrehookPayload,
    ResourcePostFetchPayload,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from cpex.framework._fastmodels import payload_model_copy


class WithPrivate(PluginPayload):
    name: str
    _seen: int = PrivateAttr(default=3)


class WithExtra(PluginPayload):
    model_config = ConfigDict(extra="allow")
    name: str


class OwnCopy(PluginPayload):
    name: str

    def __copy__(self) -> OwnCopy:
        clone = BaseModel.__copy__(self)
        object.__setattr__(clone, "name", self.name + "-copied")
        return clone


class Nested(PluginPayload):
    inner: Optional[ToolPreInvokePayload] = None
    items: list[Any] = Field(default_factory=list)


def _state(obj: Any) -> tuple[Any, ...]:
    return (type(obj), list(obj.__dict__.items()), obj.__pydantic_fields_set__, obj.__pydantic_extra__,
            getattr(obj, "__pydantic_private__", None))


ARGS = {"query": "q", "limit": 10}

CASES: list[tuple[str, Any, Any]] = [
    ("no update", ToolPreInvokePayload(name="t", args=ARGS), None),
    ("empty update", ToolPreInvokePayload(name="t", args=ARGS), {}),
    ("update a field", ToolPreInvokePayload(name="t", args=ARGS), {"args": {"query": "masked"}}),
    ("update a field not set", ToolPreInvokePayload(name="t"), {"args": {"x": 1}, "headers": None}),
    ("update with a mapping", ToolPostInvokePayload(name="t", result={"a": 1}), MappingProxyType({"result": [1]})),
    ("unknown key", PromptPrehookPayload(prompt_id="p", args={"a": "b"}), {"not_a_field": 1}),
    ("nested model", ResourcePostFetchPayload(uri="u", content={"text": "x"}), {"content": {"text": "y"}}),
    ("private attribute", WithPrivate(name="n"), {"name": "m"}),
    ("extra allow", WithExtra(name="n", other=1), {"name": "m", "more": 2}),
    ("own __copy__", OwnCopy(name="n"), {"name": "m"}),
    ("own __copy__, no update", OwnCopy(name="n"), None),
    ("model field", Nested(inner=ToolPreInvokePayload(name="i"), items=[1]), {"items": [2]}),
]


@pytest.mark.parametrize("label, payload, update", CASES, ids=[c[0] for c in CASES])
def test_copies_what_pydantic_copies(label: str, payload: Any, update: Any) -> None:
    before = _state(payload)
    ours = payload.model_copy(update=update)
    theirs = BaseModel.model_copy(payload, update=update)
    assert _state(ours) == _state(theirs)
    # shallow: the values are the very objects of the original (or of the update)
    for name, value in ours.__dict__.items():
        if isinstance(value, (dict, list, BaseModel)):
            assert value is theirs.__dict__[name]
    # the original is untouched
    assert ours is not payload
    assert _state(payload) == before


@pytest.mark.parametrize("label, payload, update", CASES, ids=[c[0] for c in CASES])
def test_deep_copies_are_pydantics(label: str, payload: Any, update: Any) -> None:
    ours = payload.model_copy(update=update, deep=True)
    theirs = BaseModel.model_copy(payload, update=update, deep=True)
    assert type(ours) is type(theirs)
    assert ours.__dict__ == theirs.__dict__
    assert ours.__pydantic_fields_set__ == theirs.__pydantic_fields_set__
    if "args" in ours.__dict__ and ours.args is not None and (update is None or "args" not in update):
        assert ours.args is not payload.args  # deep: a copy, not the original


def test_every_payload_model_uses_it() -> None:
    assert PluginPayload.model_copy is payload_model_copy
    assert ToolPreInvokePayload.model_copy is payload_model_copy


def test_copies_stay_frozen_and_independent() -> None:
    payload = ToolPreInvokePayload(name="t", args={"a": 1})
    clone = payload.model_copy(update={"name": "u"})
    with pytest.raises(ValidationError):
        clone.name = "v"  # type: ignore[misc]
    assert payload.name == "t" and clone.name == "u"
    assert clone.model_fields_set == {"name", "args"}
    assert clone == ToolPreInvokePayload(name="u", args={"a": 1})
