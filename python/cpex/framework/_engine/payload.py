"""Payloads and documents as JSON text: the codec of the wire and the payload JSON Go plugins read."""

from __future__ import annotations

import json
from typing import Any, Optional, Union

import orjson
from pydantic import BaseModel

from cpex.framework.memory import _safe_deepcopy, wrap_payload_for_isolation

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _loads(text: Union[str, bytes]) -> Any:
    """The core's JSON answer. orjson refuses the lone-surrogate escapes that the core
    sends back for strings that held them (a plugin name, a violation text: see
    pybind/wtf8.go); the standard library turns them into the very same strings."""
    try:
        return _orjson_loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_orjson_loads = orjson.loads


def _dumps(obj: Any, default: Any = None) -> str:
    try:
        return orjson.dumps(obj, default=default).decode()
    except TypeError:  # orjson.JSONEncodeError: e.g. a lone surrogate in a name or id
        return _escaped_dumps(obj, default)


def _escaped_dumps(obj: Any, default: Any = None) -> str:
    """JSON text for what orjson refuses: strings with lone surrogates ("\\ud800", which
    ``json.loads`` makes from client input) are written as ``\\ud800`` escapes (all text
    stays ASCII, so it crosses to Go unchanged), ints beyond 64 bits exactly, and nesting
    as deep as the interpreter's recursion limit allows (orjson stops at 255 levels).
    Raises ValueError (a circular reference, NaN) or RecursionError."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=default)


def _clamp64(n: int) -> int:
    """A Python int in the int64 range the core reads (docs/semantics.md, "Odd values")."""
    return _INT64_MIN if n < _INT64_MIN else _INT64_MAX if n > _INT64_MAX else n


def _isolated_copy(payload: Any) -> Any:
    """A copy-on-write copy of a model payload; a deep copy of anything else (a dict that an
    earlier plugin returned as the payload of a cross-type hook)."""
    if isinstance(payload, BaseModel):
        return wrap_payload_for_isolation(payload)
    return _safe_deepcopy(payload)


class PayloadEncodeError(ValueError):
    """A payload that cannot be written as JSON for Go plugins (a circular reference, or
    nesting deeper than the interpreter's recursion limit); ``field`` is the top-level
    field that holds the value, when the payload has fields. In a run these are facts
    for the core, which decides the error (RunGoUnreadable)."""

    def __init__(self, field: Optional[str], cause: BaseException) -> None:
        self.field = field
        self.cause = cause
        super().__init__(f"{field!r}: {type(cause).__name__}: {cause}")

    def facts(self) -> dict[str, Any]:
        # json.dumps reports a cycle as "Circular reference detected"
        return {"field": self.field, "circular": "ircular" in str(self.cause),
                "cause": f"{type(self.cause).__name__}: {self.cause}"}


def payload_json(payload: Any) -> str:
    """A payload as the JSON text Go plugins read (``model_dump(mode="json")`` field names).

    Values JSON cannot hold (arbitrary objects, bytes that are not UTF-8) are sent as
    their ``repr``: a Go plugin can still scan them, and a payload it rewrites comes back
    with those values as strings. Lone surrogates travel as JSON ``\\uXXXX`` escapes, which
    Go plugins read as U+FFFD (docs/semantics.md). Raises PayloadEncodeError.
    """
    return payload_json_bytes(payload).decode()


def payload_json_bytes(payload: Any) -> bytes:
    """payload_json's text as UTF-8 bytes, as orjson writes it: what RunGoStart reads by
    address (a large payload's go step off the loop), without the ``str`` made of it."""
    if isinstance(payload, BaseModel):
        # The JSON-typed tree (dates as ISO text, ...; its strings are the payload's own,
        # not copies), written by orjson: the text model_dump_json writes, in a third of
        # its time for 16 KB and a sixth for 1 MB (5.5 against 16 µs, 0.13 against 0.73 ms).
        try:
            data = payload.model_dump(mode="json", fallback=repr)
        except Exception:  # noqa: BLE001 - e.g. invalid UTF-8 bytes
            try:
                data = payload.model_dump()
            except Exception as exc:  # noqa: BLE001
                raise PayloadEncodeError(None, exc) from exc
    else:  # a dict returned by an earlier plugin
        data = payload
    try:
        return orjson.dumps(data, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except Exception:  # noqa: BLE001 - see _escaped_dumps
        pass
    try:
        # ASCII (ensure_ascii): its bytes are its characters
        return _escaped_dumps(_str_keys(data), default=_json_default).encode()
    except (ValueError, TypeError, RecursionError) as exc:
        raise PayloadEncodeError(_failing_field(data), exc) from exc


def _json_default(value: Any) -> Any:
    # dates and times as orjson writes them, anything else as its repr (see payload_json)
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else repr(value)


def _str_keys(data: Any) -> Any:
    # the top-level keys as OPT_NON_STR_KEYS writes them (the fallback is rare: no deep walk)
    if isinstance(data, dict) and not all(type(k) is str for k in data):
        return {str(k): v for k, v in data.items()}
    return data


def _failing_field(data: Any) -> Optional[str]:
    """The first top-level field whose value cannot be encoded (for the error message)."""
    if isinstance(data, dict):
        for key, value in data.items():
            try:
                _escaped_dumps(value, default=_json_default)
            except (ValueError, TypeError, RecursionError):
                return str(key)
    return None
