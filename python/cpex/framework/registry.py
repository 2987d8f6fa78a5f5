"""The per-manager registry of loaded plugins and their hook handlers (spec §8.3)."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Optional

from cpex.framework.base import ExternalHookRef, HookRef, Plugin, PluginRef
from cpex.framework.models import PluginConfig

logger = logging.getLogger(__name__)

__all__ = ["PluginInstanceRegistry", "PluginRef"]


def _priority(ref: HookRef) -> int:
    return ref.plugin_ref.priority


class PluginInstanceRegistry:
    """Plugins by name and hook refs by hook type, in priority order.

    ``get_hook_refs_for_hook`` returns the *same* list object until the set of refs of
    that hook changes (register/unregister/shutdown): the executor caches its run plan
    by that identity, so callers must treat the list as read-only.
    """

    def __init__(self) -> None:
        self._plugins: dict[str, PluginRef] = {}
        self._hooks: defaultdict[str, list[HookRef]] = defaultdict(list)
        self._hooks_by_name: dict[str, dict[str, HookRef]] = {}
        self._priority_cache: dict[str, list[HookRef]] = {}

    def register(self, plugin: Plugin, trusted_config: Optional[PluginConfig] = None) -> None:
        """Register ``plugin`` and one hook ref per entry of ``plugin.hooks``.

        A hook whose handler cannot be resolved raises ``PluginError``; the plugin and
        the hooks registered before it then stay registered (as upstream does).
        """
        plugin_ref = PluginRef(plugin, trusted_config)
        name = plugin_ref.name
        if name in self._plugins:
            raise ValueError(f"Plugin {name} already registered")
        self._plugins[name] = plugin_ref
        external = callable(getattr(plugin, "invoke_hook", None))
        by_hook: dict[str, HookRef] = {}
        # The plugin's own hooks list: for remote plugins it is the merged remote config.
        for hook in plugin.hooks:
            hook_ref = ExternalHookRef(hook, plugin_ref) if external else HookRef(hook, plugin_ref)
            self._hooks[hook].append(hook_ref)
            self._priority_cache.pop(hook, None)
            by_hook[hook] = hook_ref
        self._hooks_by_name[name] = by_hook

    def unregister(self, plugin_name: str) -> None:
        """Remove a plugin and all of its hook refs; unknown names are ignored."""
        plugin_ref = self._plugins.pop(plugin_name, None)
        if plugin_ref is None:
            return
        self._hooks_by_name.pop(plugin_name, None)
        # Scan every hook rather than _hooks_by_name: a partial registration left refs
        # that _hooks_by_name never recorded.
        for hook in list(self._hooks):
            refs = self._hooks[hook]
            kept = [ref for ref in refs if ref.plugin_ref is not plugin_ref]
            if len(kept) == len(refs):
                continue
            self._priority_cache.pop(hook, None)
            if kept:
                self._hooks[hook] = kept
            else:
                del self._hooks[hook]

    def get_plugin(self, name: str) -> Optional[PluginRef]:
        return self._plugins.get(name)

    def get_plugin_hook_by_name(self, name: str, hook_type: str) -> Optional[HookRef]:
        hooks = self._hooks_by_name.get(name)
        return hooks.get(hook_type) if hooks is not None else None

    def get_hook_refs_for_hook(self, hook_type: str) -> list[HookRef]:
        """Hook refs of ``hook_type`` by ascending priority; ties keep registration order."""
        cached = self._priority_cache.get(hook_type)
        if cached is not None:
            return cached
        refs = self._hooks.get(hook_type)
        if not refs:
            return []  # not cached: arbitrary unknown hook names must not grow the cache
        cached = sorted(refs, key=_priority)  # sorted() is stable
        self._priority_cache[hook_type] = cached
        return cached

    def get_all_plugins(self) -> list[PluginRef]:
        """Every registered plugin, in registration order."""
        return list(self._plugins.values())

    def has_hooks_for(self, hook_type: str) -> bool:
        """Whether any plugin registered a handler for ``hook_type``."""
        return bool(self._hooks.get(hook_type))

    @property
    def plugin_count(self) -> int:
        return len(self._plugins)

    async def shutdown(self) -> None:
        """Shut plugins down in reverse registration order, logging (not raising) failures.

        ``_hooks_by_name`` is deliberately kept (upstream behaviour: a shut-down plugin
        stays reachable by ``invoke_hook_for_plugin`` until it is registered again).
        """
        for plugin_ref in reversed(list(self._plugins.values())):
            try:
                await plugin_ref.plugin.shutdown()
            except Exception as exc:  # noqa: BLE001 - one plugin must not stop the others
                # one preformatted message: log handlers and filters see the plugin's name in it
                logger.error(f"Error shutting down plugin {plugin_ref.name}: {exc!r}")
        self._plugins.clear()
        self._hooks.clear()
        self._priority_cache.clear()
