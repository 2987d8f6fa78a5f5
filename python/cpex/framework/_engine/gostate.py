"""The context state Go plugins of a go step see, and what they changed (docs/protocol.md,
"Context state of go steps").

Python owns the GlobalContext and the table of local contexts; the core owns the rules
(core/host/foreign_state.go). Only values JSON can hold cross: a key whose value cannot be
written as JSON (a Python object, a set, a non-string key...) is not sent, so Go plugins
do not see it, and it stays in Python untouched (docs/semantics.md).
"""

from __future__ import annotations

from typing import Any, Optional

import orjson

from cpex.framework.extensions import Extensions
from cpex.framework.extensions.tiers import filter_extensions
from cpex.framework.models import GlobalContext, PluginContext, PluginContextTable

_dumps = orjson.dumps


def _json_values(state: dict[str, Any]) -> dict[str, Any]:
    """The keys of state whose values orjson writes (dates, enums, dataclasses as their
    JSON forms); the rest are left out. Only keys a Go plugin changed come back, so a
    value sent in its JSON form is never replaced by it unless a Go plugin wrote the key.
    """
    try:
        _dumps(state)
        return state
    except TypeError:
        pass
    out: dict[str, Any] = {}
    for key, value in state.items():
        if type(key) is not str:
            continue
        try:
            _dumps(value)
        except TypeError:
            continue
        out[key] = value
    return out


def _extensions(extensions: Extensions, hook_refs: list[Any], indices: list[int]) -> list[list[Any]]:
    """Each Go plugin's view of the extensions, filtered by its capabilities as a Python
    plugin's is (filter_extensions), in JSON form; one dump per distinct capability set."""
    views: dict[frozenset[str], dict[str, Any]] = {}
    out: list[list[Any]] = []
    for i in indices:
        caps = hook_refs[i].plugin_ref.capabilities
        view = views.get(caps)
        if view is None:
            filtered = filter_extensions(extensions, caps)
            view = {} if filtered is None else filtered.model_dump(mode="json", exclude_none=True, fallback=repr)
            views[caps] = view
        out.append([i, view])
    return out


def go_context(
    gc: GlobalContext,
    table: Optional[PluginContextTable],
    hook_refs: list[Any],
    indices: list[int],
    extensions: Optional[Extensions] = None,
    readers: Optional[list[int]] = None,
) -> Optional[str]:
    """RunGoContext's document for the go step's plugins ``indices``, None when there is
    nothing to send (the common case: no crossing at all). ``readers``: the plugins of
    the step that read extensions (the go step's ``ext``)."""
    local: Optional[list[list[Any]]] = None
    if table:
        rid = gc.request_id
        for i in indices:
            ctx = table.get(rid + hook_refs[i].plugin_ref.uuid)
            if ctx is not None and ctx.state:
                if local is None:
                    local = []
                local.append([i, ctx.state])
    gs, gm = gc.state, gc.metadata
    if not readers or extensions is None:
        readers = None
    if not gs and not gm and local is None and readers is None:
        return None
    doc: dict[str, Any] = {}
    if readers is not None and extensions is not None:
        doc["ext"] = _extensions(extensions, hook_refs, readers)
    if gs:
        doc["gs"] = gs
    if gm:
        doc["gm"] = gm
    if local is not None:
        doc["local"] = local
    try:  # one write in the common case: every value is JSON
        return _dumps(doc).decode()
    except TypeError:
        pass
    if gs:
        doc["gs"] = _json_values(gs)
    if gm:
        doc["gm"] = _json_values(gm)
    if local is not None:
        doc["local"] = [[i, _json_values(state)] for i, state in local]
    return _dumps(doc).decode()


def apply_local(ctx: PluginContext, state: dict[str, Any]) -> None:
    """A Go plugin's new local state: its JSON keys replace the context's; keys that were
    never sent (not JSON) stay."""
    old = ctx.state
    kept = {k: v for k, v in old.items() if k not in state and not _json_values({k: v})} if old else None
    ctx.state = {**kept, **state} if kept else state
