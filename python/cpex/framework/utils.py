"""Helpers shared by the framework, plugins and hosts (spec §21.1, §12).

Condition matching (:func:`matches`, :func:`get_matchable_value`,
:func:`payload_matches`) is the *public* API hosts call themselves (the gateway pre-checks
tool bindings with ``payload_matches``). Inside a hook run the Go core applies the same
rules; these functions are not used by the executor.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from cpex.framework.models import GlobalContext, PluginCondition

logger = logging.getLogger(__name__)

# -- attribute access for free-form payload data ------------------------------------------

# Bounds of coerce_nested: deeper or wider values are left as they are, so that a hostile
# or accidental huge structure cannot make payload construction explode.
_COERCE_MAX_DEPTH = 20
_COERCE_MAX_BREADTH = 500


class StructuredData(BaseModel):
    """Arbitrary keys with attribute access (``data.role`` as well as ``data.model_dump()``)."""

    model_config = ConfigDict(extra="allow")


def coerce_nested(v: Any, *, _depth: int = 0) -> Any:
    """Dicts (recursively, also inside lists) become :class:`StructuredData`; models pass through.

    ``_depth`` is the recursion depth (callers leave it at 0).
    """
    if isinstance(v, BaseModel) or _depth >= _COERCE_MAX_DEPTH:
        return v
    if isinstance(v, dict):
        if len(v) > _COERCE_MAX_BREADTH:
            logger.warning("Not coercing a mapping of %d keys (limit %d)", len(v), _COERCE_MAX_BREADTH)
            return v
        return StructuredData(**{str(k): coerce_nested(item, _depth=_depth + 1) for k, item in v.items()})
    if isinstance(v, list):
        if len(v) > _COERCE_MAX_BREADTH:
            logger.warning("Not coercing a list of %d items (limit %d)", len(v), _COERCE_MAX_BREADTH)
            return v
        return [coerce_nested(item, _depth=_depth + 1) for item in v]
    return v


def coerce_messages(v: Any) -> Any:
    """For a list, turn its dict elements into StructuredData; anything else is returned as is."""
    if isinstance(v, list):
        return [coerce_nested(item) if isinstance(item, dict) else item for item in v]
    return v


# -- importing plugin classes -------------------------------------------------------------

# Modules a plugin kind may never name: importing them by config would hand a config
# author process, filesystem or interpreter control.
_BLOCKED_MODULES = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "shutil",
        "socket",
        "http.server",
        "ctypes",
        "importlib",
        "builtins",
        "code",
        "codeop",
        "compileall",
        "runpy",
    }
)


@functools.cache
def import_module(mod_name: str) -> ModuleType:
    """Import ``mod_name`` for a plugin kind, refusing path tricks and dangerous modules."""
    if ".." in mod_name or "/" in mod_name or "\\" in mod_name:
        raise ImportError(f"Plugin module name '{mod_name}' contains invalid characters.")
    for blocked in _BLOCKED_MODULES:
        if mod_name == blocked or mod_name.startswith(blocked + "."):
            raise ImportError(f"Plugin module '{mod_name}' is blocked for security reasons.")
    return importlib.import_module(mod_name)


def parse_class_name(name: str) -> tuple[str, str]:
    """Split a dotted class path on its last dot: ``"a.b.C"`` -> ``("a.b", "C")``, ``"C"`` -> ``("", "C")``."""
    module, _, cls = name.rpartition(".")
    return module, cls


def manifest_filename_for_class(class_name: str) -> str:
    """The manifest file name of a plugin class: ``pkg.mod.Cls`` -> ``pkg-mod-Cls.plugin-manifest.yaml``.

    Every character other than letters, digits, ``-`` and ``_`` becomes ``-``; a name
    with nothing left gives ``plugin``.
    """
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in class_name.strip())
    return f"{safe.strip('-') or 'plugin'}.plugin-manifest.yaml"


def find_package_path(package_name: str) -> Path:
    """The directory of an installed package: where its ``plugin-manifest.yaml`` is, else its module."""
    try:
        try:
            files = importlib.metadata.files(package_name) or []
        except importlib.metadata.PackageNotFoundError:
            files = []
        for file in files:
            if file.name == "plugin-manifest.yaml":
                return Path(str(file.locate())).parent
        spec = importlib.util.find_spec(package_name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"Could not find installed package: {package_name}")
        return Path(spec.origin).parent
    except RuntimeError:
        raise
    except Exception as exc:
        raise RuntimeError(f"Error locating package {package_name}: {exc}") from exc


# -- condition matching (§12) -------------------------------------------------------------


def normalize_content_type(s: Any) -> str:
    """The media type without parameters, trimmed and lower-cased; ``""`` for non-strings."""
    if not isinstance(s, str):
        return ""
    return s.split(";", 1)[0].strip().lower()


def matches(condition: PluginCondition, context: GlobalContext) -> bool:
    """Whether the request facts in ``context`` satisfy every context field set on ``condition``."""
    if condition.server_ids and context.server_id not in condition.server_ids:
        return False
    if condition.tenant_ids and context.tenant_id not in condition.tenant_ids:
        return False
    if condition.content_types:
        content_type = context.content_type
        if not content_type or not content_type.strip():
            return False
        if normalize_content_type(content_type) not in condition.content_types:
            return False
    if condition.user_patterns:
        user = context.user
        if not user:
            return False
        # Substring of a str user, key of a dict user: neither regex nor glob.
        if not any(pattern in user for pattern in condition.user_patterns):
            return False
    return True


# Per hook type: the condition field and the payload attribute it is tested against.
_PAYLOAD_MATCH_FIELDS: dict[str, tuple[str, str]] = {
    "tool_pre_invoke": ("tools", "name"),
    "tool_post_invoke": ("tools", "name"),
    "prompt_pre_fetch": ("prompts", "prompt_id"),
    "prompt_post_fetch": ("prompts", "prompt_id"),
    "resource_pre_fetch": ("resources", "uri"),
    "resource_post_fetch": ("resources", "uri"),
    "agent_pre_invoke": ("agents", "agent_id"),
    "agent_post_invoke": ("agents", "agent_id"),
    "token_delegate": ("tools", "target_name"),
    "identity_resolve": ("tools", "raw_token"),
}


def get_matchable_value(payload: Any, hook_type: str) -> Optional[str]:
    """The payload value conditions test for ``hook_type`` (tool name, prompt id, uri, ...), or None."""
    # Hook-type enums are str subclasses with the value's hash: they look up directly.
    entry = _PAYLOAD_MATCH_FIELDS.get(hook_type)
    if entry is None:
        return None
    return getattr(payload, entry[1], None)


def payload_matches(
    payload: Any,
    hook_type: str,
    conditions: list[PluginCondition],
    context: GlobalContext,
) -> bool:
    """Whether any condition matches both ``context`` and the payload (OR across the list).

    An empty list matches everything. A payload value that is missing or empty never excludes; condition fields that
    belong to other hook types are ignored.
    """
    if not conditions:
        return True  # no conditions: the plugin runs for every payload
    entry = _PAYLOAD_MATCH_FIELDS.get(hook_type)
    for condition in conditions:
        if not matches(condition, context):
            continue
        if entry is not None:
            allowed = getattr(condition, entry[0])
            if allowed:
                value = getattr(payload, entry[1], None)
                if value and value not in allowed:
                    continue
        return True
    return False


# -- misc ---------------------------------------------------------------------------------


def get_attr(obj: Any, attr: str, default: Any = "") -> Any:
    """``obj.attr`` (or ``obj[attr]`` for dicts), with ``default`` for None objects and falsy values."""
    if obj is None:
        return default
    if hasattr(obj, attr):
        return getattr(obj, attr, default) or default
    if isinstance(obj, dict):
        return obj.get(attr, default) or default
    return default


def _build_orjson_response() -> type:
    try:
        import orjson
        from fastapi.responses import JSONResponse
    except ImportError as exc:  # fastapi is the optional "web" extra
        raise ImportError(
            "cpex.framework.utils.ORJSONResponse needs fastapi (pip install 'cpex[web]')"
        ) from exc

    class ORJSONResponse(JSONResponse):
        """A JSON response rendered with orjson (non-str keys and numpy values allowed)."""

        media_type = "application/json"

        def render(self, content: Any) -> bytes:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)

    ORJSONResponse.__module__ = __name__
    return ORJSONResponse


# Model classes upstream's utils module exposes through its imports; models imports
# this module, so they are resolved on first access instead.
_LAZY_MODEL_NAMES = frozenset({"GlobalContext", "PluginCondition"})


def __getattr__(name: str) -> Any:
    # ORJSONResponse is built on first use: importing fastapi costs more than the whole
    # framework import, and most processes never need it.
    if name == "ORJSONResponse":
        cls = _build_orjson_response()
        globals()["ORJSONResponse"] = cls
        return cls
    if name in _LAZY_MODEL_NAMES:
        from cpex.framework import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
