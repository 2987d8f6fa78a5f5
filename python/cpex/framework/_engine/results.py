"""Building what callers get: results, records, context snapshots, the errors of the manager module."""

from __future__ import annotations

import logging
from typing import Any, Optional

# BaseModel's slot descriptors (one set, shared with the copy-on-write wrappers)
from cpex.framework.memory import _new, _set_dict, _set_extra, _set_fields_set, _set_private
from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    PluginContext,
    PluginMode,
    PluginResult,
)

logger = logging.getLogger("cpex.framework.manager")


class PluginTimeoutError(Exception):
    """A plugin exceeded the manager's timeout (surfaces only from invoke_hook_for_plugin)."""


class PayloadSizeError(ValueError):
    """The payload is larger than MAX_PAYLOAD_SIZE; raised before any plugin runs."""


# Both belong to the public manager module (spec §10.1); they are defined here so that
# the driver can raise them without an import cycle.
PluginTimeoutError.__module__ = "cpex.framework.manager"
PayloadSizeError.__module__ = "cpex.framework.manager"

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _emit_logs(step: dict[str, Any]) -> None:
    # [level, message] on the manager's logger, or [level, message, logger name] for a
    # message upstream emits from another module (the hook payload policy's warning)
    for entry in step["logs"]:
        log = logger if len(entry) < 3 else logging.getLogger(entry[2])
        log.log(_LOG_LEVELS.get(entry[0], logging.WARNING), entry[1])





def _construct(cls: type[Any], values: dict[str, Any], fields_set: Optional[set[str]] = None) -> Any:
    """An instance of a pydantic model from values that are already valid, without validation.

    What ``model_construct`` does for models without private attributes or extras, at a
    fraction of its cost (it is on the per-plugin path: measured with pydantic 2.14, a
    PluginResult costs 0.44 µs this way, 2.8 µs by ``model_construct``, 1.0 µs validated).
    It writes BaseModel's four instance slots, which every pydantic 2.x release has
    (pyproject pins the tested range; ``make test-pydantic-range``); tests/py/test_construct_slots.py checks that
    the objects equal ``model_construct``'s on the installed release. ``values`` must hold every field,
    in field order; ``fields_set`` defaults to all of them (what passing them all to the
    constructor gives).
    """
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, set(values) if fields_set is None else fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj




def _check_constructible(*classes: type[Any]) -> None:
    # _construct skips private-attribute and extra bookkeeping: refuse models that need it.
    for cls in classes:
        if cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
            raise TypeError(f"cpex: {cls.__name__} cannot be built with _construct")


_check_constructible(ControlExecutionRecord, GlobalContext, PluginContext, PluginResult)


def empty_chain_result() -> PluginResult:
    """``PluginResult(modified_payload=None)`` (what a hook with no plugins returns), built
    without validation: it is the whole cost of a call nobody registered for. Each call
    gets its own mutable dict and lists."""
    values = _EMPTY_RESULT.copy()  # a copy and three stores beat a ten-key literal
    values["metadata"] = {}
    values["background_tasks"] = []
    values["executions"] = []
    return _construct(PluginResult, values, {"modified_payload"})


_EMPTY_RESULT: dict[str, Any] = {
    "continue_processing": True,
    "modified_payload": None,
    "modified_extensions": None,
    "violation": None,
    "metadata": None,  # fresh per result
    "denial_metadata": None,
    "background_tasks": None,  # fresh per result
    "http_headers": None,
    "retry_delay_ms": 0,
    "executions": None,  # fresh per result
}


def _check_empty_chain_result() -> None:
    # A field added to PluginResult must be added above too: fail at import, not silently.
    real: PluginResult[Any] = PluginResult(modified_payload=None)
    cheap = empty_chain_result()
    if list(cheap.__dict__) != list(PluginResult.model_fields) or cheap.__dict__ != real.__dict__:
        raise TypeError("cpex: empty_chain_result() no longer matches PluginResult(modified_payload=None)")


_check_empty_chain_result()
_GLOBAL_CONTEXT_FIELDS = tuple(GlobalContext.model_fields)
# Every context snapshot has all of GlobalContext's fields set, and assigning a field only
# adds its (already present) name: the snapshots share this one full set rather than each
# holding a 700-byte copy, ten per call in flight (issue 10, item 11; test_memory_conc.py).
_GLOBAL_CONTEXT_SET = set(_GLOBAL_CONTEXT_FIELDS)
_PLUGIN_CONTEXT_SET = {"global_context"}


def _plugin_context(gc: GlobalContext) -> PluginContext:
    """``PluginContext(global_context=gc)`` for a GlobalContext (or subclass) instance,
    without validation: the same object pydantic builds (it keeps the instance as is),
    at a third of the cost (invoke_hook_for_plugin makes one per call)."""
    return _construct(PluginContext, {"state": {}, "global_context": gc, "metadata": {}}, _PLUGIN_CONTEXT_SET.copy())


_MODES = {m.value: m for m in PluginMode}
_STATUSES = {st.value: st for st in ControlExecutionStatus}


def _records(raw: list[dict[str, Any]]) -> list[ControlExecutionRecord]:
    """Record objects from the core's JSON (complete and valid: no validation needed)."""
    for rec in raw:
        rec["mode"] = _MODES[rec["mode"]]
        rec["status"] = _STATUSES[rec["status"]]
    return _record_objects(raw)


def _record_objects(recs: list[dict[str, Any]]) -> list[ControlExecutionRecord]:
    # _construct inlined; every field is given (the core sends them all): all are "set"
    out: list[ControlExecutionRecord] = []
    append = out.append
    for rec in recs:
        obj = _new(ControlExecutionRecord)
        _set_dict(obj, rec)
        _set_fields_set(obj, _RECORD_FIELDS.copy())
        _set_extra(obj, None)
        _set_private(obj, None)
        append(obj)
    return out


_RECORD_FIELDS = set(ControlExecutionRecord.model_fields)


def record_templates(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A chain rule's records (RunChainRule) as templates for _chain_records: the core's
    JSON with mode and status turned into their enums once, durations to be filled in."""
    for rec in raw:
        rec["mode"] = _MODES[rec["mode"]]
        rec["status"] = _STATUSES[rec["status"]]
    return raw


def _chain_records(templates: list[dict[str, Any]], durations: list[int]) -> list[ControlExecutionRecord]:
    """The records of a run that ended as its chain rule says: each template with its
    call's duration, the same objects _records builds from the done step's JSON (every
    field set, a list of config keys of its own)."""
    recs = []
    for tmpl, duration in zip(templates, durations, strict=True):
        rec = tmpl.copy()
        rec["duration_ns"] = duration
        keys = rec["config_keys"]
        if keys is not None:
            rec["config_keys"] = keys.copy()
        recs.append(rec)
    return _record_objects(recs)
