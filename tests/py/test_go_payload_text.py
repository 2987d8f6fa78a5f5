"""_goplugin._payload_text writes a small payload model with its own serializer: the
document must be payload_json's (the same values; only a number's spelling may differ),
and whatever that serializer refuses goes to payload_json itself."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import uuid
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from cpex.framework import PromptPosthookPayload, ToolPostInvokePayload, ToolPreInvokePayload
from cpex.framework._driver import payload_json
from cpex.framework._goplugin import _SMALL_PAYLOAD, _payload_text


class _Colour(enum.Enum):
    RED = "red"


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _Inner(BaseModel):
    x: float = 1.5
    when: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=datetime.UTC)


ARGS: list[dict[str, Any]] = [
    {},
    {"q": "hello", "n": 10, "f": 1.0, "g": 1e16, "h": 1e-7, "big": 2**70, "neg0": -0.0, "none": None, "t": True},
    {"text": "é ü 😀 \u2028", "ctl": "a\x00b\x1f", "quote": 'x"y\\z', "html": "<a>&"},
    {"nan": math.nan, "inf": math.inf},
    {"dt": datetime.datetime(2024, 1, 2, 3, 4, 5), "date": datetime.date(2024, 1, 2), "dec": decimal.Decimal("1.10"),
     "uuid": uuid.UUID(int=1), "enum": _Colour.RED},
    {"bytes": b"abc", "set": {1}, "tuple": (1, "a"), "object": _Opaque(), "model": _Inner()},
    {"lone": "a\ud800b"},
    {"nested": [[{"a": [1, {"b": 2.5}]}]]},
]


def _same_document(got: str, want: str) -> None:
    if got == want:
        return
    assert orjson.loads(got) == orjson.loads(want)


@pytest.mark.parametrize("args", ARGS, ids=range(len(ARGS)))
def test_a_small_payload_is_payload_jsons_document(args: dict[str, Any]) -> None:
    payload = ToolPreInvokePayload(name="t", args=args)
    _same_document(_payload_text(payload, 0), payload_json(payload))


def test_other_payload_models() -> None:
    for payload in (
        ToolPostInvokePayload(name="t", result={"r": [1, "two", {"three": 3.0}]}),
        PromptPosthookPayload(prompt_id="p", result={"messages": []}),
    ):
        _same_document(_payload_text(payload, 0), payload_json(payload))


def test_a_lone_surrogate_is_written_by_payload_json() -> None:
    payload = ToolPreInvokePayload(name="t", args={"lone": "a\ud800b"})
    assert _payload_text(payload, 0) == payload_json(payload)


def test_after_a_large_payload_the_text_is_payload_jsons_own() -> None:
    payload = ToolPreInvokePayload(name="t", args={"h": 1e-7, "text": "x" * 10})
    assert _payload_text(payload, _SMALL_PAYLOAD) == payload_json(payload)


def test_a_dict_payload_is_written_by_payload_json() -> None:
    payload: Any = {"name": "t", "args": {"h": 1e-7}}
    assert _payload_text(payload, 0) == payload_json(payload)


class _OwnDump(ToolPreInvokePayload):
    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        data = super().model_dump(**kwargs)
        data["args"] = {"dumped": "by the override"}
        return data


def test_a_model_dump_override_is_honoured() -> None:
    payload = _OwnDump(name="t", args={"q": "x"})
    assert _payload_text(payload, 0) == payload_json(payload)
    assert '"by the override"' in _payload_text(payload, 0)
