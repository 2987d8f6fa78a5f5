"""Time the three ways the framework can build a model it knows to be valid.

The Python driver builds PluginResult, GlobalContext and ControlExecutionRecord on the
per-plugin path without validation, by writing BaseModel's four instance slots through
their descriptors. This script times that against pydantic's own ``model_construct``
(and the validating constructor, for scale), under whatever pydantic is installed, and
checks that the slot writes give the same object ``model_construct`` gives. It is run by
scripts/check-pydantic-range.sh in a venv per end of the supported pydantic range.

Usage: python scripts/pydantic_construct_timing.py [--number N] [--repeat R] [--json]
Prints ns/op (best of R repeats of N calls each). Exits 1 if the objects differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from typing import Any, Callable

import pydantic
from pydantic import BaseModel

from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    PluginMode,
    PluginResult,
)

# The slots the driver writes; a pydantic that adds one would leave it unset.
EXPECTED_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")

_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def slot_construct(cls: type[Any], values: dict[str, Any], fields_set: set[str]) -> Any:
    """The driver's technique (python/cpex/framework/_driver.py ``_construct``)."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def _cases() -> list[tuple[str, type[Any], dict[str, Any]]]:
    """Each model with every field given, as the driver has them (valid, in field order)."""
    result = PluginResult(modified_payload=None)
    gctx = GlobalContext(
        request_id="req-1", user="alice@example.com", tenant_id="t-1", server_id="srv-1",
        state={"k": 1}, metadata={"m": "v"},
    )
    record = ControlExecutionRecord(
        plugin_id="0123456789abcdef", plugin_name="p", plugin_kind="mod.P", hook_name="tool_pre_invoke",
        mode=PluginMode.SEQUENTIAL, status=ControlExecutionStatus.COMPLETED, requested_allow=True,
        matched=True, applied=True, duration_ns=1200, config_keys=["a"],
    )
    return [(type(m).__name__, type(m), dict(m.__dict__)) for m in (result, gctx, record)]


def _same(a: Any, b: Any) -> bool:
    return (
        type(a) is type(b)
        and a.__dict__ == b.__dict__
        and list(a.__dict__) == list(b.__dict__)
        and a.__pydantic_fields_set__ == b.__pydantic_fields_set__
        and a.__pydantic_extra__ == b.__pydantic_extra__
        and a.__pydantic_private__ == b.__pydantic_private__
        and a == b
    )


def _builders(cls: type[Any], values: dict[str, Any]) -> tuple[Callable[[], Any], ...]:
    """The three ways, each as the call sites do it: a fresh dict and set per object."""
    fields = set(values)

    def slot() -> Any:
        return slot_construct(cls, values.copy(), fields.copy())

    def construct() -> Any:
        return cls.model_construct(fields.copy(), **values)

    def validate() -> Any:
        return cls(**values)

    return slot, construct, validate


def _best_ns(fn: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--number", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = ap.parse_args()

    ok = tuple(BaseModel.__slots__) == EXPECTED_SLOTS
    rows: list[dict[str, Any]] = []
    for name, cls, values in _cases():
        slot, construct, validate = _builders(cls, values)
        same = _same(slot(), cls.model_construct(**values))
        ok = ok and same
        rows.append({
            "model": name,
            "slot_writes_ns": round(_best_ns(slot, args.number, args.repeat), 1),
            "model_construct_ns": round(_best_ns(construct, args.number, args.repeat), 1),
            "validating_init_ns": round(_best_ns(validate, args.number // 4 or 1, args.repeat), 1),
            "same_object": same,
        })
    out = {
        "pydantic": pydantic.VERSION,
        "python": ".".join(map(str, sys.version_info[:3])),
        "slots": list(BaseModel.__slots__),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"pydantic {out['pydantic']} on CPython {out['python']} (best of {args.repeat} x {args.number}, ns/op)")
        print(f"{'model':<24} {'slot writes':>12} {'model_construct':>16} {'ratio':>6} {'__init__':>10}  same")
        for r in rows:
            ratio = r["model_construct_ns"] / r["slot_writes_ns"]
            print(f"{r['model']:<24} {r['slot_writes_ns']:>12.1f} {r['model_construct_ns']:>16.1f} "
                  f"{ratio:>5.1f}x {r['validating_init_ns']:>10.1f}  {r['same_object']}")
        if tuple(BaseModel.__slots__) != EXPECTED_SLOTS:
            print(f"BaseModel.__slots__ is {BaseModel.__slots__}, the driver writes {EXPECTED_SLOTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
