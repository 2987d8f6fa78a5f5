"""Plugin registrations and call facts as the core knows them: refs, conditions, users, RunStart facts."""

from __future__ import annotations

import json
import weakref
from typing import Any, Optional

from cpex.framework._engine import wire
from cpex.framework._engine.payload import _clamp64, _dumps
from cpex.framework._engine.sizefact import str_len
from cpex.framework.models import (
    GlobalContext,
)


def _condition_facts(cond: Any) -> dict[str, Any]:
    def as_list(v: Any) -> Optional[list[str]]:
        return None if v is None else [str(x) for x in v]

    return {
        "server_ids": as_list(cond.server_ids),
        "tenant_ids": as_list(cond.tenant_ids),
        "tools": as_list(cond.tools),
        "prompts": as_list(cond.prompts),
        "resources": as_list(cond.resources),
        "agents": as_list(cond.agents),
        "user_patterns": as_list(cond.user_patterns),
        "content_types": as_list(cond.content_types),
    }


def _release_ref(ref_id: int) -> None:
    if wire.started():
        try:
            wire.ref_release(ref_id)
        except Exception:  # the core may already be gone at interpreter exit
            pass


def core_ref_id(plugin_ref: Any) -> int:
    """The core's id for a PluginRef, registering its trusted identity on first use."""
    rid: int = plugin_ref._core_id
    if rid:
        return rid
    trusted = plugin_ref.trusted_config
    info = {
        "uuid": plugin_ref.uuid,
        "name": plugin_ref.name,
        "kind": trusted.kind,
        "mode": str(plugin_ref.mode),
        # a Python int: beyond int64 it sorts at the nearest bound (docs/semantics.md)
        "priority": _clamp64(plugin_ref.priority) if isinstance(plugin_ref.priority, int) else plugin_ref.priority,
        "on_error": str(plugin_ref.on_error),
        "conditions": [_condition_facts(c) for c in (plugin_ref.conditions or [])],
        "config": config_key_names(trusted.config),
        "go": getattr(plugin_ref.plugin, "_go_plugin_id", 0),
    }
    rid = wire.ref_register(_dumps(info))
    plugin_ref._core_id = rid
    fin = weakref.finalize(plugin_ref, _release_ref, rid)
    fin.atexit = False
    return rid


def config_key_names(config: Any) -> list[str]:
    """Names of the trusted config's keys, in order (the core truncates and bounds them)."""
    return [str(k) for k in config] if isinstance(config, dict) else []



_INT64 = range(-(2**63), 2**63)


def _user_value(value: Any) -> Any:
    """One value of a dict user as it crosses to Go, losslessly (docs/protocol.md, facts).

    Strings, bools, None and 64-bit ints travel as JSON scalars; every other value
    (floats included: orjson would turn NaN into null) as ``{"json": text}``, its
    canonical JSON (sorted keys, exact ints of any size), which Go decodes with exact
    numbers. Go plugins identify users by these values (builtin/rate_limiter), so two
    distinct values must never arrive as one, and none may be dropped.
    """
    if value is None or isinstance(value, (str, bool)) or (type(value) is int and value in _INT64):
        return value
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        # mixed key types, NaN, cycles, nesting past the recursion limit: the value's repr,
        # as a JSON string, is still one key per value (Go reads a string)
        try:
            text = json.dumps(repr(value))
        except RecursionError:
            text = json.dumps(f"<{type(value).__name__}>")
    return {"json": text}


def user_fact(user: Any) -> Any:
    """GlobalContext.user as the facts carry it: a str, None, or a dict user's keys (for
    user_patterns) and every value, exactly (for Go plugins that identify the user:
    builtin/rate_limiter reads email/id/sub/username)."""
    # user_patterns test `pattern in user` (a key of a dict, an element of a list): only
    # str keys and elements can equal a pattern (tests/cases/conditions/matching.yaml).
    if isinstance(user, dict):
        return {"keys": [k for k in user if isinstance(k, str)],
                "values": {k: _user_value(v) for k, v in user.items() if isinstance(k, str)}}
    if isinstance(user, (list, tuple, set, frozenset)):
        return {"keys": [x for x in user if isinstance(x, str)]}
    if user is not None and not isinstance(user, str):
        return str(user)
    return user


def size_fact(plan: dict[str, Any], payload: Any) -> Optional[tuple[str, int]]:
    """The size guard's probe (facts "size"): the first of the plan's attributes that is
    truthy on the payload, with the length of its str() (of each value's, summed, for a
    mapping the plan says to measure by values), or None."""
    for attr, how in plan["size"]:
        value = getattr(payload, attr, None)
        if value:
            return attr, (sum(map(str_len, value.values())) if how == "values" else str_len(value))
    return None


def _facts(
    plan: dict[str, Any], payload: Any, gc: GlobalContext, pool: int, vexc: bool, trace: bool, ext: bool
) -> dict[str, Any]:
    user = gc.user
    if user is not None and type(user) is not str:  # a str or None crosses as itself
        user = user_fact(user)
    match = None
    field = plan["match"]
    if field:
        value = getattr(payload, field, None)
        if value:
            match = value if isinstance(value, str) else str(value)
    return {
        "rid": gc.request_id,
        "server_id": gc.server_id,
        "tenant_id": gc.tenant_id,
        "content_type": gc.content_type,
        "user": user,
        "match": match,
        "size": size_fact(plan, payload),
        "pool": pool or 0,
        "vexc": vexc,
        "trace": trace,
        "ext": ext,
    }
