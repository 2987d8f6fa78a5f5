"""The plugin base class and the references the registry keeps to plugins (spec §7, §8).

``PluginRef`` pairs a plugin with the *trusted* config the manager loaded: every
scheduling fact (name, mode, priority, conditions, on_error, capabilities) is read from
it, never from the plugin, which only ever holds a copy. ``HookRef`` resolves the
handler of one hook type on one plugin, once, at registration.
"""

from __future__ import annotations

import functools
import inspect
import typing
import uuid
from abc import ABC
from typing import Any, Callable, Optional, Union

from cpex.framework.decorator import get_hook_metadata
from cpex.framework.errors import PluginError
from cpex.framework.models import (
    OnError,
    PluginCondition,
    PluginConfig,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
)


class Plugin(ABC):  # noqa: B024 - abstract by intent, yet directly instantiable (spec §7.1)
    """Base class of in-process plugins.

    A hook handler is an ``async def`` method named after its hook type (or decorated
    with ``@hook``) taking ``(payload, context)`` or ``(payload, context, extensions)``
    and returning a ``PluginResult``.
    """

    def __init__(
        self,
        config: PluginConfig,
        hook_payloads: Optional[dict[str, type[PluginPayload]]] = None,
        hook_results: Optional[dict[str, type[PluginResult[Any]]]] = None,
    ) -> None:
        self._config = config
        self._hook_payloads = hook_payloads
        self._hook_results = hook_results

    @property
    def priority(self) -> int:
        return self._config.priority

    @property
    def config(self) -> PluginConfig:
        return self._config

    @property
    def mode(self) -> PluginMode:
        return self._config.mode

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def hooks(self) -> list[str]:
        return self._config.hooks

    @property
    def tags(self) -> list[str]:
        return self._config.tags

    @property
    def conditions(self) -> list[PluginCondition]:
        return self._config.conditions

    async def initialize(self) -> None:
        """Called by the loader right after construction."""

    async def shutdown(self) -> None:
        """Called by the registry when the manager shuts down."""

    def json_to_payload(self, hook: str, payload: Union[str, dict[str, Any]]) -> PluginPayload:
        """Validate JSON text or a dict into the payload class of ``hook``.

        The class comes from this plugin's ``hook_payloads`` when it names the hook,
        else from the global hook registry.
        """
        payload_class = self._hook_payloads.get(hook) if self._hook_payloads else None
        if payload_class is None:
            payload_class = _hook_registry().get_payload_type(hook)
        if payload_class is None:
            raise PluginError(PluginErrorModel(message=f"No payload defined for hook {hook}.", plugin_name=self.name))
        if isinstance(payload, str):
            return payload_class.model_validate_json(payload)  # type: ignore[no-any-return]
        return payload_class.model_validate(payload)  # type: ignore[no-any-return]

    def json_to_result(self, hook: str, result: Union[str, dict[str, Any]]) -> PluginResult[Any]:
        """Validate JSON text or a dict into the result class of ``hook``."""
        result_class = self._hook_results.get(hook) if self._hook_results else None
        if result_class is None:
            result_class = _hook_registry().get_result_type(hook)
        if result_class is None:
            raise PluginError(PluginErrorModel(message=f"No result defined for hook {hook}.", plugin_name=self.name))
        if isinstance(result, str):
            return result_class.model_validate_json(result)  # type: ignore[no-any-return]
        return result_class.model_validate(result)  # type: ignore[no-any-return]


def _hook_registry() -> Any:
    # Looked up through the module attribute at call time so that tests can patch
    # cpex.framework.hooks.registry.get_hook_registry.
    from cpex.framework.hooks import registry

    return registry.get_hook_registry()


class PluginRef:
    """A registered plugin together with its trusted config and a per-registration uuid."""

    # Id of this ref in the Go core, cached by the manager's executor (0 = not yet known).
    _core_id: int = 0

    def __init__(self, plugin: Plugin, trusted_config: Optional[PluginConfig] = None) -> None:
        self._plugin = plugin
        self._trusted_config = trusted_config if trusted_config is not None else plugin.config
        self._uuid = uuid.uuid4()
        self._uuid_hex = self._uuid.hex  # read on every hook call (context-table keys)

    @property
    def plugin(self) -> Plugin:
        return self._plugin

    @property
    def trusted_config(self) -> PluginConfig:
        return self._trusted_config

    @property
    def uuid(self) -> str:
        """32 hex characters, fresh for every registration."""
        return self._uuid_hex

    @property
    def priority(self) -> int:
        return self._trusted_config.priority

    @property
    def name(self) -> str:
        return self._trusted_config.name

    @property
    def hooks(self) -> list[str]:
        return self._trusted_config.hooks

    @property
    def tags(self) -> list[str]:
        return self._trusted_config.tags

    @property
    def conditions(self) -> list[PluginCondition]:
        return self._trusted_config.conditions

    @property
    def mode(self) -> PluginMode:
        return self._trusted_config.mode

    @property
    def on_error(self) -> OnError:
        return self._trusted_config.on_error

    @property
    def capabilities(self) -> frozenset[str]:
        return self._trusted_config.capabilities


def _plugin_error(plugin_name: str, message: str) -> PluginError:
    return PluginError(PluginErrorModel(message=message, plugin_name=plugin_name))


class HookRef:
    """The handler of one hook type on one registered plugin, resolved at construction."""

    def __init__(self, hook: str, plugin_ref: PluginRef) -> None:
        self._hook = hook
        self._plugin_ref = plugin_ref
        self._func: Callable[..., Any] = self._find_handler(hook, plugin_ref)
        self._accepts_extensions = self._check_signature(hook, plugin_ref.name, self._func)

    @staticmethod
    def _find_handler(hook: str, plugin_ref: PluginRef) -> Callable[..., Any]:
        """Convention first (an attribute named after the hook), then ``@hook`` metadata."""
        plugin = plugin_ref.plugin
        func = getattr(plugin, hook, None)
        if func is not None:
            return func  # type: ignore[no-any-return]
        # getmembers sorts by name: among several decorated methods the alphabetically
        # first match wins.
        for member_name, method in inspect.getmembers(plugin, inspect.ismethod):
            if member_name.startswith("_"):
                continue
            metadata = get_hook_metadata(method)
            if metadata is not None and metadata.matches(hook):
                return method  # type: ignore[no-any-return]
        name = plugin_ref.name
        raise _plugin_error(
            name,
            f"Plugin '{name}' has no hook: '{hook}'. "
            f"Method must either be named '{hook}' or decorated with @hook('{hook}')",
        )

    @staticmethod
    def _check_signature(hook: str, plugin_name: str, func: Callable[..., Any]) -> bool:
        """Validate a handler; True when it takes the extensions parameter."""
        try:
            count = len(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            count = -1  # not introspectable (or not callable at all)
        if count not in (2, 3):
            got = "an uninspectable callable" if count < 0 else f"{count} parameter(s)"
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' has invalid signature. "
                f"Expected 2 or 3 parameters (payload, context[, extensions]), got {got}",
            )
        if not inspect.iscoroutinefunction(func):
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' must be async (declared with 'async def')",
            )
        return count == 3

    def _validate_type_hints(self, hook: str, func: Callable[..., Any]) -> None:
        """Check ``func``'s payload and return annotations against the hook registry.

        Optional and never called by the framework. Unannotated handlers, hooks without
        a registered type and annotations that are not classes pass.
        """
        try:
            hints = typing.get_type_hints(func)
        except Exception as exc:  # noqa: BLE001 - unresolvable forward references etc.
            raise _plugin_error(
                self._plugin_ref.name, f"Plugin '{self._plugin_ref.name}' hook '{hook}' has unresolvable type hints: {exc}"
            ) from exc
        registry = _hook_registry()
        params = list(inspect.signature(func).parameters)
        expected_payload = registry.get_payload_type(hook)
        if params and expected_payload is not None:
            annotated = hints.get(params[0])
            if isinstance(annotated, type) and not issubclass(expected_payload, annotated):
                raise _plugin_error(
                    self._plugin_ref.name,
                    f"Plugin '{self._plugin_ref.name}' hook '{hook}' payload parameter is annotated "
                    f"{annotated.__name__}, expected {expected_payload.__name__}",
                )
        expected_result = registry.get_result_type(hook)
        annotated_result = hints.get("return")
        if expected_result is not None and isinstance(annotated_result, type):
            if not issubclass(annotated_result, PluginResult):
                raise _plugin_error(
                    self._plugin_ref.name,
                    f"Plugin '{self._plugin_ref.name}' hook '{hook}' returns {annotated_result.__name__}, "
                    f"expected {expected_result.__name__}",
                )

    @property
    def plugin_ref(self) -> PluginRef:
        return self._plugin_ref

    @property
    def name(self) -> str:
        """The hook type this ref serves."""
        return self._hook

    @property
    def accepts_extensions(self) -> bool:
        return self._accepts_extensions

    @property
    def hook(self) -> Callable[..., Any]:
        """The bound handler."""
        return self._func


class ExternalHookRef(HookRef):
    """A hook served by a plugin object's ``invoke_hook(hook, payload, context)`` method.

    Used for plugin objects that proxy a remote implementation: no method lookup, the
    handler is ``partial(plugin.invoke_hook, hook)``, and extensions are never passed.
    """

    def __init__(self, hook: str, plugin_ref: PluginRef) -> None:
        self._hook = hook
        self._plugin_ref = plugin_ref
        invoke = getattr(plugin_ref.plugin, "invoke_hook", None)
        if not callable(invoke):
            raise _plugin_error(plugin_ref.name, f"Plugin: {plugin_ref.name} is not an external plugin")
        self._func = functools.partial(invoke, hook)
        self._accepts_extensions = False
