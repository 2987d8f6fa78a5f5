"""Instantiating plugins from their config entries (spec §9).

``kind`` selects how: a dotted ``module.Class`` path is imported in-process; a kind of
the form ``builtin/<name>`` is a Go plugin that lives in the core; ``external`` with an ``mcp:``,
``grpc:`` or ``unix_socket:`` section is a Go plugin too, one of the core's clients (through
``cpex.framework.external.mcp.client.ExternalPlugin``); ``isolated_venv`` is a Go plugin
hosting the class in its own virtualenv's worker (``cpex.framework.isolated.client``). An
``external`` entry needs one transport section.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

from cpex import _core
from cpex.framework.base import Plugin
from cpex.framework.constants import EXTERNAL_PLUGIN_TYPE, ISOLATED_VENV_PLUGIN_TYPE
from cpex.framework.errors import PluginError
from cpex.framework.models import PluginConfig, PluginErrorModel
from cpex.framework.utils import import_module, parse_class_name

logger = logging.getLogger(__name__)

# Kinds served by Go plugins registered in the core, e.g. "builtin/regex_filter".
GO_PLUGIN_KIND_PREFIX = "builtin/"

# Directories plugin_dirs entries may lie under. Fixed at import, so the *import-time*
# working directory is allowed (relative plugin_dirs work from there); tests patch it.
ALLOWED_PLUGIN_DIRS: set[str] = {
    os.path.abspath("/var/lib/cpex/plugins"),
    os.path.abspath("/private/var/lib/cpex/plugins"),
    os.getcwd(),
}


def _no_transport(config: PluginConfig) -> PluginError:
    # PluginConfig's validation already refuses such an entry; one built without it
    # (model_construct) still gets a clear error rather than an AttributeError.
    return PluginError(
        PluginErrorModel(
            message=f"Plugin '{config.name}': kind 'external' needs an 'mcp', 'grpc' or 'unix_socket' section",
            plugin_name=config.name,
            code="external_without_transport",
        )
    )


def load_failure_fails_closed(kind: str) -> bool:
    """Whether a plugin of ``kind`` that cannot be loaded fails initialisation even when
    ``fail_on_plugin_error`` is false: a Go guard (``builtin/*``), an ``external`` or an
    ``isolated_venv`` plugin, whose skip would turn a guard that cannot run into an allow.

    The rule is core's (``core.LoadFailureFailsClosed``); it is answered here without
    starting the Go runtime (a pure-Python config must not start it), and the two are
    proven equal by tests/cases/loading/fail_closed.yaml.
    """
    return kind.startswith(GO_PLUGIN_KIND_PREFIX) or kind in (EXTERNAL_PLUGIN_TYPE, ISOLATED_VENV_PLUGIN_TYPE)


class PluginLoader:
    """Loads plugin classes by kind (cached per kind) and instantiates them."""

    def __init__(self) -> None:
        self._plugin_types: dict[str, type[Plugin]] = {}
        self.plugin_dirs: list[str] = []

    def append_to_search_path(self, plugin_dirs: list[str]) -> None:
        """Add the allowed entries of ``plugin_dirs`` to ``sys.path``; others are ignored.

        An entry is allowed when its resolved absolute path starts with one of
        ``ALLOWED_PLUGIN_DIRS`` (a plain string prefix test, as upstream).
        """
        for entry in plugin_dirs:
            resolved = str(Path(entry).resolve())
            if not any(resolved.startswith(allowed) for allowed in ALLOWED_PLUGIN_DIRS):
                logger.warning("Ignoring plugin directory %s: not under an allowed plugin directory", entry)
                continue
            self.plugin_dirs.append(entry)
            if resolved not in sys.path:
                sys.path.append(resolved)

    def __get_plugin_type(self, kind: str) -> type[Plugin]:
        """The class named by the dotted path ``kind`` (import errors are logged and re-raised)."""
        try:
            module_name, class_name = parse_class_name(kind)
            module = import_module(module_name)
            plugin_type: type[Plugin] = getattr(module, class_name)
        except Exception:
            logger.exception("Unable to load plugin class %s", kind)
            raise
        return plugin_type

    def __register_plugin_type(self, kind: str) -> None:
        """Cache the class of ``kind``; a kind already cached is left as it is."""
        if kind in self._plugin_types:
            return
        self._plugin_types[kind] = self.__get_plugin_type(kind)

    def _load_go_plugin(self, config: PluginConfig) -> Plugin:
        """Instantiate the Go plugin named by ``config.kind`` (``builtin/<name>``) in the core.

        The core validates the kind and the plugin's config; its error names the plugin,
        the kind and the offending key, and arrives here as a ``PluginError``.
        """
        from cpex.framework._goplugin import GoPlugin  # starts the core: only when a Go plugin is configured

        try:
            return GoPlugin(config)
        except _core.CoreUnavailableError:
            raise
        except RuntimeError as exc:
            raise PluginError(PluginErrorModel(message=str(exc), plugin_name=config.name, code="go_plugin_config")) from exc

    async def _load_external_plugin(self, config: PluginConfig) -> Plugin:
        """Connect the external plugin of ``config`` (MCP, gRPC or Unix socket: the core's
        clients); its config becomes the one the core answers (merged with the server's
        for MCP and gRPC)."""
        # Upstream's class per transport (each starts the core).
        plugin: Plugin
        if config.grpc is not None:
            from cpex.framework.external.grpc.client import GrpcExternalPlugin

            plugin = GrpcExternalPlugin(config)
        elif config.unix_socket is not None:
            from cpex.framework.external.unix.client import UnixSocketExternalPlugin

            plugin = UnixSocketExternalPlugin(config)
        else:
            from cpex.framework.external.mcp.client import ExternalPlugin

            plugin = ExternalPlugin(config)
        await plugin.initialize()
        return plugin

    async def _load_isolated_plugin(self, config: PluginConfig) -> Plugin:
        """Build (or reuse) the plugin's venv and start its worker; the core hosts it."""
        from cpex.framework.isolated.client import IsolatedVenvPlugin  # starts the core

        plugin = IsolatedVenvPlugin(config, plugin_dirs=self.plugin_dirs.copy())
        await plugin.initialize()
        return plugin

    async def load_and_instantiate_plugin(self, config: PluginConfig) -> Optional[Plugin]:
        """Create and initialise the plugin of ``config``.

        The plugin receives a copy of the config, so nothing it does can alter the
        trusted config the manager schedules by.
        """
        plugin_config = config.model_copy()
        kind = plugin_config.kind
        if kind == EXTERNAL_PLUGIN_TYPE and (
            plugin_config.mcp is not None or plugin_config.grpc is not None or plugin_config.unix_socket is not None
        ):
            return await self._load_external_plugin(plugin_config)
        if kind == ISOLATED_VENV_PLUGIN_TYPE:
            return await self._load_isolated_plugin(plugin_config)
        if kind == EXTERNAL_PLUGIN_TYPE:
            raise _no_transport(plugin_config)
        if kind.startswith(GO_PLUGIN_KIND_PREFIX):
            plugin = self._load_go_plugin(plugin_config)
            await plugin.initialize()
            return plugin
        if kind not in self._plugin_types:
            self.__register_plugin_type(kind)
        plugin_type = self._plugin_types[kind]
        if not plugin_type:
            return None
        plugin = plugin_type(plugin_config)
        await plugin.initialize()
        return plugin

    async def shutdown(self) -> None:
        """Forget the cached plugin classes."""
        self._plugin_types.clear()
