"""Which payload fields a plugin may change, per hook type (spec §15).

A :class:`HookPayloadPolicy` lists the *top-level* field names a plugin may modify;
``apply_policy`` keeps changes to those fields and drops the rest (with one warning).
A rejected change is never an error: the chain goes on with the unchanged field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, TypeVar

from pydantic import BaseModel

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)

_MISSING = object()


class DefaultHookPolicy(str, Enum):
    """What happens to a modification for a hook that has no explicit policy."""

    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class HookPayloadPolicy:
    """The payload fields plugins may change for one hook type (top-level names only)."""

    writable_fields: frozenset[str]


def _differs(before: Any, after: Any) -> bool:
    # Models compare by content: a plugin that rebuilt an equal sub-model changed nothing.
    if isinstance(before, BaseModel) and isinstance(after, BaseModel):
        return bool(before.model_dump() != after.model_dump())
    return bool(before != after)


def changed_fields(original: BaseModel, modified: BaseModel) -> list[str]:
    """The fields declared on ``type(modified)`` whose value differs from ``original``'s.

    A fact for the core, which decides what a policy keeps (core.PolicyDecision): fields
    missing on ``modified`` are skipped, models compare by ``model_dump()``, the rest by
    ``==``.
    """
    changed: list[str] = []
    for name in type(modified).model_fields:
        new = getattr(modified, name, _MISSING)
        if new is not _MISSING and _differs(getattr(original, name, None), new):
            changed.append(name)
    return changed


def apply_policy(
    original: BaseModel,
    modified: BaseModel,
    policy: HookPayloadPolicy,
    *,
    apply_to: Optional[_M] = None,
) -> Optional[_M]:
    """Copy the writable fields that ``modified`` changed relative to ``original``.

    Fields are those declared on ``type(modified)``. The accepted changes are applied
    with ``model_copy(update=...)`` to ``apply_to`` (default: ``original``); returns
    None when no writable field changed. Which fields are accepted, and the warning for
    the dropped ones, is the Go core's decision: the same one the executor applies.
    """
    from cpex.framework._engine import wire  # the extension starts on first use only

    changed = changed_fields(original, modified)
    if not changed:
        return None
    accepted, warning = wire.policy_decide(changed, sorted(policy.writable_fields))
    if warning:
        logger.warning("%s", warning)
    if not accepted:
        return None
    # `or`, not `is None`: a falsy apply_to (an empty RootModel mapping) falls back to original.
    target = apply_to or original
    return target.model_copy(update={name: getattr(modified, name) for name in accepted})  # type: ignore[return-value]
