"""Plugin managers and the executor, driven by the Go core.

``PluginManager`` (a Borg), ``TenantPluginManager`` (ordinary per-instance state) and
``PluginExecutor`` keep the upstream 0.1.x signatures. Every scheduling rule (ordering,
filtering, phases, on_error, timeouts, halts, policies, metadata, retry delay, records)
is decided by the Go core; this module loads Python plugins, owns the lifecycle and
hands the run to :mod:`cpex.framework._driver`, which only carries out the core's steps.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from enum import Enum
from typing import Any, ClassVar, Literal, Optional, Union

from cpex import _core
from cpex.framework._driver import CoreExecutor, PayloadSizeError, PluginTimeoutError, empty_chain_result  # noqa: F401  (public here, spec §10.1)
from cpex.framework._engine.results import _plugin_context
from cpex.framework.base import HookRef, Plugin
from cpex.framework.errors import PluginError, PluginViolationError  # noqa: F401  (re-exported names)
from cpex.framework.extensions import Extensions
from cpex.framework.hooks.policies import DefaultHookPolicy, HookPayloadPolicy
from cpex.framework.loader.config import ConfigLoader
from cpex.framework.loader.plugin import PluginLoader, load_failure_fails_closed
from cpex.framework.models import (
    Config,
    GlobalContext,
    PluginContext,
    PluginContextTable,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
)
from cpex.framework.observability import ObservabilityProvider
from cpex.framework.registry import PluginInstanceRegistry
from cpex.framework.settings import settings

logger = logging.getLogger(__name__)

DEFAULT_PLUGIN_TIMEOUT = 30
MAX_PAYLOAD_SIZE = 1_000_000
CONTEXT_CLEANUP_INTERVAL = 300
CONTEXT_MAX_AGE = 3600
HTTP_AUTH_CHECK_PERMISSION_HOOK = "http_auth_check_permission"
DECISION_PLUGIN_METADATA_KEY = "_decision_plugin"
RESERVED_INTERNAL_METADATA_KEYS = frozenset({DECISION_PLUGIN_METADATA_KEY})


def _pool_size(value: Any) -> int:
    """PLUGINS_EXECUTION_POOL as the bound of one call's concurrent tasks (0 = unbounded)."""
    return int(value) if value else 0


def _hook_name(hook_type: Any) -> str:
    """The plain string of a hook type: str-enum members (``ToolHookType.X``) give their value."""
    if type(hook_type) is str:
        return hook_type
    if isinstance(hook_type, Enum):
        return str(hook_type.value)
    return str(hook_type)


class PluginExecutor(CoreExecutor):
    """Runs the plugins of one hook call; every decision is the Go core's.

    Public attributes as upstream: ``timeout``, ``config``, ``observability``,
    ``hook_policies`` and ``default_hook_policy``. The runtime-disabled set lives in the
    core; ``_runtime_disabled`` is a write-through view of it.
    """

    def __init__(
        self,
        config: Optional[Config] = None,
        timeout: int = DEFAULT_PLUGIN_TIMEOUT,
        observability: Optional[ObservabilityProvider] = None,
        hook_policies: Optional[dict[str, HookPayloadPolicy]] = None,
        default_hook_policy: Optional[Literal["allow", "deny"]] = None,
    ) -> None:
        policy = DefaultHookPolicy(default_hook_policy or settings.default_hook_policy)
        super().__init__(
            timeout=timeout,
            hook_policies=hook_policies or {},
            default_hook_policy=policy,
            observability=observability,
        )
        self.config = config
        self._runtime_disabled_lock = asyncio.Lock()
        if settings.metrics_enabled:
            self.enable_metrics(explicit=settings.metrics_enabled_explicit)

    def enable_metrics(self, on: bool = True, *, explicit: bool = True) -> None:
        """Counts this executor's plugin calls in the core and, when on, exposes them on
        prometheus_client's default registry (cpex.framework.metrics; a cpex-go extension).
        explicit: metrics were asked for (not the default), so a missing prometheus_client
        is worth a warning."""
        self.metrics = on
        if on:
            from cpex.framework import metrics

            metrics.register(explicit=explicit)

    async def execute(
        self,
        hook_refs: list[HookRef],
        payload: PluginPayload,
        global_context: GlobalContext,
        hook_type: str,
        local_contexts: Optional[PluginContextTable] = None,
        violations_as_exceptions: bool = False,
        extensions: Optional[Extensions] = None,
    ) -> tuple[PluginResult, Optional[PluginContextTable]]:
        """Run hook_refs for one hook call (spec §11.1); returns (result, context table)."""
        if not hook_refs:
            return empty_chain_result(), None
        return await self._start(
            hook_refs, payload, global_context, hook_type, local_contexts, violations_as_exceptions, extensions
        )

    def _start(
        self,
        hook_refs: list[HookRef],
        payload: PluginPayload,
        global_context: GlobalContext,
        hook_type: str,
        local_contexts: Optional[PluginContextTable],
        violations_as_exceptions: bool,
        extensions: Optional[Extensions],
    ) -> Coroutine[Any, Any, tuple[PluginResult, Optional[PluginContextTable]]]:
        """execute's run of a non-empty chain, not awaited yet: PluginManager.invoke_hook
        awaits it itself when execute is this one (one coroutine frame less per call)."""
        return self._run(
            hook_refs,
            payload,
            global_context,
            _hook_name(hook_type),
            local_contexts,
            violations_as_exceptions,
            extensions,
            _pool_size(settings.execution_pool),
        )

    async def execute_plugin(
        self,
        hook_ref: HookRef,
        payload: PluginPayload,
        local_context: PluginContext,
        violations_as_exceptions: bool,
        global_context: Optional[GlobalContext] = None,
        combined_metadata: Optional[dict[str, Any]] = None,
        extensions: Optional[Extensions] = None,
    ) -> PluginResult:
        """The per-plugin step of §11.5 on its own (what invoke_hook_for_plugin runs)."""
        return await self._run_single(
            hook_ref,
            payload,
            local_context,
            violations_as_exceptions,
            global_context,
            combined_metadata,
            extensions,
        )

    async def reset_runtime_disabled(self) -> None:
        """Re-enable every plugin that on_error=disable switched off."""
        async with self._runtime_disabled_lock:
            self._runtime_disabled.clear()


_EXECUTE = PluginExecutor.execute


class PluginManager:
    """Process-wide plugin manager. A Borg: every instance shares one state (spec §10.2)."""

    __shared_state: ClassVar[dict[str, Any]] = {}
    _lock = threading.Lock()
    __lock = _lock  # upstream's (name-mangled) spelling of the same lock
    _async_lock: Optional[asyncio.Lock] = None
    _loader: PluginLoader = PluginLoader()
    _initialized: bool = False
    _registry: PluginInstanceRegistry = PluginInstanceRegistry()
    _config: Optional[Config] = None
    _config_path: Optional[str] = None
    _executor: Optional[PluginExecutor] = None

    def __init__(
        self,
        config: str = "",
        timeout: int = DEFAULT_PLUGIN_TIMEOUT,
        observability: Optional[ObservabilityProvider] = None,
        hook_policies: Optional[dict[str, HookPayloadPolicy]] = None,
        default_hook_policy: Optional[Literal["allow", "deny"]] = None,
        *,
        metrics: Optional[bool] = None,
    ) -> None:
        """``metrics``: per-plugin Prometheus metrics on or off (None: PLUGINS_METRICS_ENABLED),
        a cpex-go extension (cpex.framework.metrics)."""
        self.__dict__ = self.__shared_state
        if not self.__shared_state:
            with self._lock:
                if not self.__shared_state:
                    if config:
                        self._config = ConfigLoader.load_config(config)
                        self._config_path = config
                    self._executor = PluginExecutor(
                        config=self._config,
                        timeout=timeout,
                        observability=observability,
                        hook_policies=hook_policies,
                        default_hook_policy=default_hook_policy,
                    )
                    if metrics is not None:
                        self._executor.enable_metrics(metrics)
                    return
        if metrics is not None:
            self._get_executor().enable_metrics(metrics)
        if hook_policies or default_hook_policy or observability:
            with self._lock:
                self._backfill(timeout, observability, hook_policies, default_hook_policy)

    def _backfill(
        self,
        timeout: int,
        observability: Optional[ObservabilityProvider],
        hook_policies: Optional[dict[str, HookPayloadPolicy]],
        default_hook_policy: Optional[str],
    ) -> None:
        """Later constructions of the Borg only fill in what the first one left unset."""
        executor = self._get_executor()
        if timeout != DEFAULT_PLUGIN_TIMEOUT:
            executor.timeout = timeout
        if hook_policies:
            if not executor.hook_policies:
                executor.hook_policies = hook_policies
            elif executor.hook_policies != hook_policies:
                logger.warning(
                    "PluginManager: hook_policies already set; ignoring new policies (call reset() first to replace them)"
                )
        if default_hook_policy:
            executor.default_hook_policy = DefaultHookPolicy(default_hook_policy)
        if observability and executor.observability is None:
            executor.observability = observability

    @classmethod
    def reset(cls) -> None:
        """Forget the shared state (tests call it between cases). Plugins are not shut down."""
        with cls._lock:
            cls.__shared_state.clear()
            cls._initialized = False
            cls._config = None
            cls._config_path = None
            cls._async_lock = None
            cls._registry = PluginInstanceRegistry()
            cls._executor = None
            cls._loader = PluginLoader()

    def _get_executor(self) -> PluginExecutor:
        """The executor, created on first use when none was set (upstream's private accessor)."""
        if self._executor is None:
            self._executor = PluginExecutor(config=self._config)
        return self._executor

    @property
    def executor(self) -> PluginExecutor:
        return self._get_executor()

    @executor.setter
    def executor(self, value: PluginExecutor) -> None:
        self._executor = value

    @property
    def config(self) -> Optional[Config]:
        return self._config

    @property
    def plugin_count(self) -> int:
        return self._registry.plugin_count

    @property
    def initialized(self) -> bool:
        return self._initialized

    @property
    def observability(self) -> Optional[ObservabilityProvider]:
        return self.executor.observability

    @observability.setter
    def observability(self, provider: Optional[ObservabilityProvider]) -> None:
        with self._lock:
            self.executor.observability = provider

    def get_plugin(self, name: str) -> Optional[Plugin]:
        ref = self._registry.get_plugin(name)
        return ref.plugin if ref else None

    def has_hooks_for(self, hook_type: str) -> bool:
        return self._registry.has_hooks_for(hook_type)

    async def reset_runtime_disabled(self) -> None:
        await self.executor.reset_runtime_disabled()

    async def initialize(self) -> None:
        """Load and register every non-disabled plugin of the config (spec §10.2)."""
        if self._async_lock is None:
            with self._lock:
                if self._async_lock is None:
                    self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if self._initialized:
                logger.debug("Plugin manager already initialized")
                return
            if self._registry.plugin_count:
                await self._registry.shutdown()
            config = self._config
            self._loader.append_to_search_path((config.plugin_dirs if config else None) or [])
            for plugin_config in (config.plugins if config else None) or []:
                if plugin_config.mode == PluginMode.DISABLED:
                    logger.info("Plugin: %s is disabled. Ignoring.", plugin_config.name)
                    continue
                try:
                    plugin = await self._loader.load_and_instantiate_plugin(plugin_config)
                    if not plugin:
                        raise ValueError(f"Unable to instantiate plugin: {plugin_config.name}")
                    # a remote plugin's initialize() merged its remote config: that copy is
                    # authoritative; otherwise the entry of Config.plugins itself is
                    trusted = plugin.config.model_copy() if plugin_config.kind == "external" else plugin_config
                    self._registry.register(plugin, trusted_config=trusted)
                    logger.info("Loaded plugin: %s (mode: %s)", plugin_config.name, plugin_config.mode)
                except _core.CoreUnavailableError:
                    # Never skipped, whatever fail_on_plugin_error says: a skipped Go guard
                    # would turn every call of its hooks into an allow (fail closed).
                    logger.error("Failed to load plugin %s: the Go core is unavailable in this process",
                                 plugin_config.name)
                    raise
                except Exception as exc:
                    logger.error("Failed to load plugin %s: {%s}", plugin_config.name, exc)
                    if not settings.fail_on_plugin_error and not load_failure_fails_closed(plugin_config.kind):
                        logger.warning("Skipping plugin %s because fail_on_plugin_error is disabled", plugin_config.name)
                        continue
                    raise RuntimeError(f"Plugin initialization failed: {plugin_config.name} - {exc}") from exc
            self._initialized = True
            logger.info("Plugin manager initialized with %d plugins", self._registry.plugin_count)

    async def shutdown(self) -> None:
        """Shut every plugin down (reverse order). Config, executor and loader are kept."""
        if self._async_lock is None:
            with self._lock:
                if self._async_lock is None:
                    self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if not self._initialized:
                logger.debug("Plugin manager not initialized, nothing to shutdown")
                return
            logger.info("Shutting down plugin manager")
            await self._registry.shutdown()
            self._initialized = False
            logger.info("Plugin manager shutdown complete")

    async def invoke_hook(
        self,
        hook_type: str,
        payload: PluginPayload,
        global_context: GlobalContext,
        local_contexts: Optional[PluginContextTable] = None,
        violations_as_exceptions: bool = False,
        extensions: Optional[Extensions] = None,
    ) -> tuple[PluginResult, Optional[PluginContextTable]]:
        """Run every plugin registered for hook_type (spec §10.3)."""
        # keyword call, as upstream: tests patch this method with hook_type= stand-ins
        hook_refs = self._registry.get_hook_refs_for_hook(hook_type=hook_type)
        executor = self._get_executor()  # a seam upstream callers patch
        if "execute" not in executor.__dict__ and type(executor).execute is _EXECUTE:
            # What execute does, without its coroutine frame. Only when execute is ours: an
            # executor whose execute was patched or overridden gets called.
            if not hook_refs:
                return empty_chain_result(), None
            return await executor._start(
                hook_refs, payload, global_context, hook_type, local_contexts, violations_as_exceptions, extensions
            )
        return await executor.execute(
            hook_refs,
            payload,
            global_context,
            hook_type,
            local_contexts,
            violations_as_exceptions,
            extensions,
        )

    async def invoke_hook_for_plugin(
        self,
        name: str,
        hook_type: str,
        payload: Union[PluginPayload, dict[str, Any], str],
        context: Union[PluginContext, GlobalContext],
        violations_as_exceptions: bool = False,
        payload_as_json: bool = False,
    ) -> PluginResult:
        """Run one plugin's hook alone: timeout, on_error and mode conversion only (spec §10.4)."""
        if isinstance(context, GlobalContext):
            context = _plugin_context(context)  # PluginContext(global_context=context), unvalidated
        hook_ref = self._registry.get_plugin_hook_by_name(name, hook_type)
        if hook_ref is None:
            raise PluginError(
                error=PluginErrorModel(
                    message=f"Unable to find {hook_type} for plugin {name}.  Make sure the plugin is registered.",
                    plugin_name=name,
                )
            )
        if payload_as_json:
            if not isinstance(payload, (str, dict)):
                raise ValueError(f"When payload_as_json=True, payload must be str or dict, got {type(payload)}")
            payload = hook_ref.plugin_ref.plugin.json_to_payload(hook_type, payload)
        elif not isinstance(payload, PluginPayload):
            raise ValueError(f"When payload_as_json=False, payload must be a PluginPayload, got {type(payload)}")
        return await self._get_executor().execute_plugin(hook_ref, payload, context, violations_as_exceptions)


class TenantPluginManager(PluginManager):
    """A plugin manager with its own state (one per tenant / context id), spec §10.5."""

    def __init__(
        self,
        config: Union[str, Config],
        timeout: int = DEFAULT_PLUGIN_TIMEOUT,
        observability: Optional[ObservabilityProvider] = None,
        hook_policies: Optional[dict[str, HookPayloadPolicy]] = None,
        default_hook_policy: Optional[str] = None,
        *,
        metrics: Optional[bool] = None,
    ) -> None:
        if isinstance(config, Config):
            self._config = config
            self._config_path = None
        else:
            self._config = ConfigLoader.load_config(config)
            self._config_path = config
        self._executor = PluginExecutor(
            config=self._config,
            timeout=timeout,
            observability=observability,
            hook_policies=hook_policies,
            default_hook_policy=default_hook_policy,  # type: ignore[arg-type]
        )
        if metrics is not None:
            self._executor.enable_metrics(metrics)
        self._registry = PluginInstanceRegistry()
        self._loader = PluginLoader()
        self._initialized = False
        self._async_lock = None
