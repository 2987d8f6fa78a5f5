"""The ``isolated_venv`` plugin as the framework sees it: a Go plugin made by the core.

``initialize`` hands the core the facts only Python knows (its interpreter, which
creates the venv as upstream does; the allowed ``plugin_dirs``; the working directory;
the plugin's safe config JSON; the requirements file resolved against the installed
package) and the core does the rest: venv cache, worker start, handshake and feature
checks. Every hook call is then a Go call, off the event loop, without the GIL.
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from pathlib import Path
from typing import Any, Optional

from cpex.framework._driver import _dumps, _loads
from cpex.framework._engine import wire
from cpex.framework._goplugin import GoPlugin, _release
from cpex.framework.base import Plugin
from cpex.framework.errors import PluginError
from cpex.framework.models import PluginConfig, PluginErrorModel
from cpex.framework.utils import find_package_path

# Creating a venv and installing its requirements may take minutes.
SETUP_TIMEOUT_SECONDS = 900.0


def resolve_requirements(config: PluginConfig, plugin_dirs: list[str]) -> Optional[str]:
    """The plugin's requirements file: ``config.requirements_file`` relative to the
    installed package of the plugin's name, else to the plugin root (upstream's rule)."""
    rel = (config.config or {}).get("requirements_file")
    if not rel:
        return None
    try:
        base = find_package_path(config.name)
    except Exception:
        class_name = str((config.config or {}).get("class_name", ""))
        base = Path(plugin_dirs[0]).resolve() / class_name.split(".")[0] if plugin_dirs else Path.cwd()
    return str(base / str(rel))


def prepare_venv(
    plugin_dir: str,
    class_name: str,
    version: Optional[str],
    requirements: Optional[str] = None,
    extra_pip_args: Optional[list[list[str]]] = None,
) -> tuple[Path, bool]:
    """Build (or reuse) the venv of ``class_name`` under ``plugin_dir`` for an installer,
    through the runtime's cache rules (the core's ``isolated.Prepare``), running each of
    ``extra_pip_args`` as one more ``pip install`` before the cache key is written.

    Returns:
        The plugin root (the venv's parent) and whether the venv was built now.

    Raises:
        RuntimeError: the venv, its requirements or an extra install failed (pip's last
            lines quoted).
    """
    opts = {
        "python": sys.executable,
        "plugin_dir": plugin_dir,
        "class_name": class_name,
        "version": version,
        "requirements": requirements or "",
        "extra": extra_pip_args or [],
        "timeout": SETUP_TIMEOUT_SECONDS,
    }
    answer: dict[str, Any] = _loads(wire.isolated_venv_prepare(_dumps(opts)))
    if "error" in answer:
        raise RuntimeError(f"Failed to initialize isolated venv for {class_name}: {answer['error']['message']}")
    return Path(answer["root"]), bool(answer["created"])


class IsolatedVenvPlugin(GoPlugin):
    """A plugin running in its own virtualenv's worker; the Go core is its host."""

    def __init__(self, config: PluginConfig, plugin_dirs: Optional[list[str]] = None) -> None:  # pylint: disable=super-init-not-called
        # Not GoPlugin.__init__: the Go twin exists only once initialize has built it.
        Plugin.__init__(self, config)
        self.plugin_dirs = list(plugin_dirs or [])
        self._go_plugin_id = 0
        self._started = False

    def _setup_opts(self) -> dict[str, Any]:
        return {
            "python": sys.executable,
            "plugin_dirs": self.plugin_dirs,
            "dir": os.getcwd(),
            "safe_config": self._config.get_safe_config(),
            "requirements": resolve_requirements(self._config, self.plugin_dirs) or "",
            "timeout": SETUP_TIMEOUT_SECONDS,
        }

    async def initialize(self) -> None:
        """Make or reuse the venv, start its worker and check its features.

        Raises:
            PluginError: the venv or its requirements cannot be installed (pip's last
                lines quoted), the worker does not start or answer, or it lacks a
                feature the plugin needs.
        """
        entry = _dumps(self._config.model_dump(mode="json"), default=str)
        try:
            raw = await asyncio.to_thread(wire.isolated_plugin_new, entry, _dumps(self._setup_opts()))
        except RuntimeError as exc:
            raise PluginError(PluginErrorModel(message=str(exc), plugin_name=self.name, code="isolated_plugin")) from exc
        answer: dict[str, Any] = _loads(raw)
        if "error" in answer:
            raise PluginError(PluginErrorModel.model_validate(answer["error"]))
        go_id = int(answer["id"])
        self._go_plugin_id = go_id
        self._finalizer = weakref.finalize(self, _release, go_id)
        self._finalizer.atexit = False
        self._started = True
        for hook in self._config.hooks:
            setattr(self, str(hook), self._hook_for(str(hook)))

    async def shutdown(self) -> None:
        """Stop the worker."""
        if self._started:
            self._started = False
            await asyncio.to_thread(self._finalizer)

    async def cleanup(self) -> None:
        """Upstream's name for shutdown."""
        await self.shutdown()


__all__ = ["IsolatedVenvPlugin", "prepare_venv", "resolve_requirements"]
