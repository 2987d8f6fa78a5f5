"""The plugin base class and the references the registry keeps to plugins (spec §7, §8).

``PluginRef`` pairs a plugin with the *trusted* config the manager loaded: every
scheduling fact (name, mode, priority, conditions, on_error, capabilities) is read from
it, never from the plugin, which only ever holds a copy. ``HookRef`` resolves the
handler of one hook type on one plugin, once, at registration.
"""

from __future__ import annotations

import functools
import inspect
import logging
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

_logger = logging.getLogger(__name__)


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

    async def initialize(self) -> None:  # noqa: B027 - optional hook, a no-op unless overridden
        """Called by the loader right after construction."""

    async def shutdown(self) -> None:  # noqa: B027 - optional hook, a no-op unless overridden
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
            return payload_class.model_validate_json(payload)
        return payload_class.model_validate(payload)

    def json_to_result(self, hook: str, result: Union[str, dict[str, Any]]) -> PluginResult[Any]:
        """Validate JSON text or a dict into the result class of ``hook``."""
        result_class = self._hook_results.get(hook) if self._hook_results else None
        if result_class is None:
            result_class = _hook_registry().get_result_type(hook)
        if result_class is None:
            raise PluginError(PluginErrorModel(message=f"No result defined for hook {hook}.", plugin_name=self.name))
        if isinstance(result, str):
            return result_class.model_validate_json(result)
        return result_class.model_validate(result)


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
        self._accepts_extensions = self._validate_hook_signature(hook, self._func, plugin_ref.plugin.name) == 3

    @staticmethod
    def _find_handler(hook: str, plugin_ref: PluginRef) -> Callable[..., Any]:
        """Convention first (an attribute named after the hook), then ``@hook`` metadata."""
        plugin = plugin_ref.plugin
        func = getattr(plugin, hook, None)
        if func is not None:
            return func
        # getmembers sorts by name: among several decorated methods the alphabetically
        # first match wins.
        for member_name, method in inspect.getmembers(plugin, inspect.ismethod):
            if member_name.startswith("_"):
                continue
            metadata = get_hook_metadata(method)
            if metadata is not None and metadata.matches(hook):
                return method
        name = plugin.name  # the plugin's own name, as upstream words this message
        raise _plugin_error(
            name,
            f"Plugin '{name}' has no hook: '{hook}'. "
            f"Method must either be named '{hook}' or decorated with @hook('{hook}')",
        )

    def _validate_hook_signature(self, hook: str, func: Callable[..., Any], plugin_name: str) -> int:
        """Validate a handler (2 or 3 parameters, async); answers its parameter count."""
        try:
            names = list(inspect.signature(func).parameters)
        except (TypeError, ValueError) as exc:  # not introspectable, or not callable at all
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' has invalid signature. "
                f"Expected 2 or 3 parameters (payload, context[, extensions]), got an uninspectable {func!r}",
            ) from exc
        if len(names) not in (2, 3):
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' has invalid signature. "
                f"Expected 2 or 3 parameters (payload, context[, extensions]), got {len(names)}: {names}. "
                f"Correct signature: async def {hook}(self, payload: PayloadType, "
                f"context: PluginContext[, extensions: Extensions]) -> ResultType",
            )
        if not inspect.iscoroutinefunction(func):
            fname = getattr(func, "__name__", hook)
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' must be async. Method '{fname}' is not a coroutine "
                f"function. Use 'async def {fname}(...)' instead of 'def {fname}(...)'.",
            )
        return len(names)

    def _validate_type_hints(self, hook: str, func: Callable[..., Any], params: list[Any], plugin_name: str) -> None:
        """Check ``func``'s payload and return annotations against the hook registry.

        Optional and never called by the framework (tests call it). ``params`` are the
        handler's parameters (``inspect.Parameter`` objects, payload first). Hooks without
        registered types, and hints that cannot be resolved, pass; a missing hint, or one
        whose text does not name the registered type, is a ``PluginError``.
        """
        registry = _hook_registry()
        expected_payload = registry.get_payload_type(hook)
        expected_result = registry.get_result_type(hook)
        if not expected_payload or not expected_result:
            return
        try:
            hints = typing.get_type_hints(func)
        except Exception as exc:  # noqa: BLE001 - unresolvable forward references etc.: not checkable
            _logger.debug("Could not extract type hints for plugin '%s' hook '%s': %s", plugin_name, hook, exc)
            return
        payload_param = params[0].name
        if payload_param not in hints:
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' missing type hint for parameter '{payload_param}'. "
                f"Expected: {payload_param}: {expected_payload.__name__}",
            )
        actual = hints[payload_param]
        if actual != expected_payload and expected_payload.__name__ not in str(actual):
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' parameter '{payload_param}' has incorrect type hint. "
                f"Expected: {expected_payload.__name__}, Got: {actual}",
            )
        if "return" not in hints:
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' missing return type hint. "
                f"Expected: -> {expected_result.__name__}",
            )
        returned = hints["return"]
        # an async handler's hint may wrap the result type: its name appearing is enough
        if returned != expected_result and expected_result.__name__ not in str(returned):
            raise _plugin_error(
                plugin_name,
                f"Plugin '{plugin_name}' hook '{hook}' has incorrect return type hint. "
                f"Expected: {expected_result.__name__}, Got: {returned}",
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
