"""The ``@hook`` decorator: mark a method as the handler of one or more hook types (spec §7.3).

The decorator only attaches metadata; discovery happens in ``HookRef`` when a plugin is
registered. Payload/result types are recorded but never registered in the global
``HookRegistry``: custom hook types dispatch in-process without registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

if TYPE_CHECKING:
    from cpex.framework.models import PluginPayload, PluginResult

_HOOK_METADATA_ATTR = "_plugin_hook_metadata"

P = TypeVar("P", bound="PluginPayload")
R = TypeVar("R", bound="PluginResult[Any]")

_F = TypeVar("_F", bound=Callable[..., Any])


class HookMetadata:
    """What ``@hook`` recorded on a function."""

    __slots__ = ("hook_types", "payload_type", "result_type")

    def __init__(
        self,
        hook_types: list[str],
        payload_type: Optional[type[PluginPayload]] = None,
        result_type: Optional[type[PluginResult[Any]]] = None,
    ) -> None:
        self.hook_types = hook_types
        self.payload_type = payload_type
        self.result_type = result_type

    @property
    def hook_type(self) -> str:
        """The first hook type, or ``""`` when there is none."""
        return self.hook_types[0] if self.hook_types else ""

    def matches(self, hook_type: str) -> bool:
        """Whether this handler serves ``hook_type``."""
        return hook_type in self.hook_types

    def __repr__(self) -> str:
        return (
            f"HookMetadata(hook_types={self.hook_types!r}, payload_type={self.payload_type!r}, "
            f"result_type={self.result_type!r})"
        )


def hook(
    hook_type: Union[str, Sequence[str]],
    payload_type: Optional[type[PluginPayload]] = None,
    result_type: Optional[type[PluginResult[Any]]] = None,
) -> Callable[[_F], _F]:
    """Mark a plugin method as the handler of ``hook_type`` (a name or a sequence of names).

    The function is returned unchanged, carrying a :class:`HookMetadata` under
    ``_plugin_hook_metadata``.
    """
    # A str is itself a Sequence: test it first so that "tool_pre_invoke" is one hook type.
    hook_types = [hook_type] if isinstance(hook_type, str) else list(hook_type)

    def decorate(func: _F) -> _F:
        setattr(func, _HOOK_METADATA_ATTR, HookMetadata(hook_types, payload_type, result_type))
        return func

    return decorate


def get_hook_metadata(func: Callable[..., Any]) -> Optional[HookMetadata]:
    """The metadata ``@hook`` attached to ``func`` (or to the function of a bound method)."""
    return getattr(func, _HOOK_METADATA_ATTR, None)


def has_hook_metadata(func: Callable[..., Any]) -> bool:
    """Whether ``func`` was decorated with ``@hook``."""
    return hasattr(func, _HOOK_METADATA_ATTR)


def __getattr__(name: str) -> Any:
    # PluginPayload / PluginResult are reachable here in upstream (through its imports);
    # importing models eagerly would be circular, so they are resolved on first access.
    if name in ("PluginPayload", "PluginResult"):
        from cpex.framework import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
