"""The process-wide map from hook type to payload and result classes (spec §16.8).

The registry matters where a payload crosses a JSON boundary
(``Plugin.json_to_payload``, ``invoke_hook_for_plugin(payload_as_json=True)``, remote
transports); in-process dispatch of a custom hook type needs no registration. Every
registration also reaches the Go core (now if it runs, else when it starts; registering
never starts it) with one fact: whether the result carries another payload type, which
decides how core applies a Go plugin's modification of that hook under a policy.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

from cpex import _core

if TYPE_CHECKING:
    from cpex.framework.models import PluginPayload, PluginResult


class HookRegistry:
    """Singleton registry of hook payload/result types; ``HookRegistry()`` is always the same object."""

    _instance: ClassVar[Optional[HookRegistry]] = None
    # Class attributes: shared however the registry is reached.
    _hook_payloads: ClassVar[dict[str, type[Any]]] = {}
    _hook_results: ClassVar[dict[str, type[Any]]] = {}

    def __new__(cls) -> HookRegistry:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def register_hook(self, hook_type: str, payload_class: type[Any], result_class: type[Any]) -> None:
        """Register (or silently replace) the classes of ``hook_type``."""
        self._hook_payloads[hook_type] = payload_class
        self._hook_results[hook_type] = result_class
        if _core.started():
            _push(_core.native(), _name(hook_type), payload_class, result_class)

    def get_payload_type(self, hook_type: str) -> Optional[type[Any]]:
        """The payload class of ``hook_type``, or None."""
        return self._hook_payloads.get(hook_type)

    def get_result_type(self, hook_type: str) -> Optional[type[Any]]:
        """The result class of ``hook_type``, or None."""
        return self._hook_results.get(hook_type)

    def json_to_payload(self, hook_type: str, payload: Union[str, dict[str, Any]]) -> PluginPayload:
        """Validate JSON text or a dict into the payload class of ``hook_type``."""
        payload_class = self._hook_payloads.get(hook_type)
        if payload_class is None:
            raise ValueError(f"No payload type registered for hook: {hook_type}")
        if isinstance(payload, str):
            return payload_class.model_validate_json(payload)
        return payload_class.model_validate(payload)

    def json_to_result(self, hook_type: str, result: Union[str, dict[str, Any]]) -> PluginResult[Any]:
        """Validate JSON text or a dict into the result class of ``hook_type``."""
        result_class = self._hook_results.get(hook_type)
        if result_class is None:
            raise ValueError(f"No result type registered for hook: {hook_type}")
        if isinstance(result, str):
            return result_class.model_validate_json(result)
        return result_class.model_validate(result)

    def is_registered(self, hook_type: str) -> bool:
        """Whether both a payload and a result class are registered for ``hook_type``."""
        return hook_type in self._hook_payloads and hook_type in self._hook_results

    def get_registered_hooks(self) -> list[str]:
        """Registered hook types in registration order."""
        return list(self._hook_payloads)


def other_result_type(payload_class: type[Any], result_class: type[Any]) -> bool:
    """Whether result_class is PluginResult[X] with X not payload_class (a fact for core)."""
    metadata = getattr(result_class, "__pydantic_generic_metadata__", None) or {}
    args: tuple[Any, ...] = tuple(metadata.get("args") or ())
    return len(args) > 0 and args[0] is not payload_class


def _name(hook_type: Any) -> str:
    # Built-in hook types are str enums: their value is the name (str() would be "Enum.MEMBER").
    return str(getattr(hook_type, "value", hook_type))


def _push(native: ModuleType, hook_type: str, payload_class: type[Any], result_class: type[Any]) -> None:
    from cpex.framework._engine import wire  # the only caller of the extension

    # the module as given: this also runs inside _core.native()'s start-up (on_start)
    wire.hook_type_register_on(native, hook_type, other_result_type(payload_class, result_class))


def _push_all(native: ModuleType) -> None:
    for hook_type, payload_class in list(HookRegistry._hook_payloads.items()):
        result_class = HookRegistry._hook_results.get(hook_type)
        if result_class is not None:
            _push(native, _name(hook_type), payload_class, result_class)


_core.on_start(_push_all)
_global_registry = HookRegistry()


def get_hook_registry() -> HookRegistry:
    """The process-wide hook registry."""
    return _global_registry


def __getattr__(name: str) -> Any:
    # PluginPayload / PluginResult are reachable here in upstream (through its imports);
    # importing models eagerly would be circular, so they are resolved on first access.
    if name in ("PluginPayload", "PluginResult"):
        from cpex.framework import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
