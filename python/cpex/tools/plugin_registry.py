"""The record of installed plugins (``installed-plugins.json``, see settings.get_plugin_registry_path)."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpex.framework.models import InstalledPluginInfo, InstalledPluginRegistry, PluginInstallationType, PluginManifest
from cpex.framework.utils import find_package_path
from cpex.tools.settings import get_plugin_registry_path

if TYPE_CHECKING:
    from cpex.tools.catalog import PluginCatalog

logger = logging.getLogger(__name__)


def _package_source(manifest: PluginManifest, installation_type: str) -> str:
    """What the plugin was installed from, as recorded (a pip requirement or a path)."""
    if installation_type == "monorepo":
        if manifest.monorepo is None:
            raise RuntimeError("PluginManifest.monorepo can not be None.")
        return manifest.monorepo.package_source
    if installation_type == "pypi":
        if manifest.package_info is None:
            raise RuntimeError("PluginManifest.package_info can not be None.")
        return manifest.package_info.pypi_package
    if installation_type == "local":
        if manifest.local is None:
            raise RuntimeError("PluginManifest local path can not be None.")
        return manifest.local
    if installation_type == "git":
        if manifest.git_repo is None:
            raise RuntimeError("PluginManifest.git_repo can not be None.")
        source = f"{manifest.name} @ {manifest.git_repo.git_repository}"
        if manifest.git_repo.git_branch_tag_commit is not None:
            source += f"@{manifest.git_repo.git_branch_tag_commit}"
        return source
    raise ValueError(f"Invalid installation type: {installation_type}")


class PluginRegistry:
    """Loads the installed-plugins record and keeps it in step with installs and uninstalls."""

    registry: InstalledPluginRegistry = InstalledPluginRegistry()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = get_plugin_registry_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.registry = self._load(path)

    @staticmethod
    def _load(path: Path) -> InstalledPluginRegistry:
        if not path.exists():
            return InstalledPluginRegistry()
        try:
            with open(path, encoding="utf-8") as fh:
                return InstalledPluginRegistry(**json.load(fh))
        except (json.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            # A broken record must not block the CLI: keep it aside for inspection, start empty.
            logger.error("Corrupted plugin registry file at %s: %s. Starting with empty registry.", path, exc)
            backup = path.with_suffix(".json.corrupted")
            try:
                path.rename(backup)
                logger.info("Backed up corrupted registry to %s", backup)
            except OSError as err:
                logger.warning("Could not backup corrupted registry: %s", err)
            return InstalledPluginRegistry()

    def update(
        self,
        manifest: PluginManifest,
        installation_type: str,
        catalog: PluginCatalog,
        git_user_name: str,
        plugin_path: Path | None = None,
        editable: bool = False,
    ) -> None:
        """Record ``manifest`` as installed (replacing an older record of the same name) and save."""
        source = _package_source(manifest, installation_type)
        location = plugin_path if plugin_path is not None else find_package_path(manifest.name)
        if isinstance(location, str):
            location = Path(location)
        info = InstalledPluginInfo(
            name=manifest.name,
            kind=manifest.kind,
            version=manifest.version,
            installation_type=PluginInstallationType(installation_type),
            installation_path=str(location.resolve()),
            installed_at=datetime.datetime.now(datetime.UTC).isoformat() + "Z",
            installed_by=git_user_name,
            package_source=source,
            editable=editable,
        )
        self.registry.register_plugin(info)

    def has(self, plugin_name: str) -> bool:
        """Whether a plugin of that exact name is recorded."""
        return self.get(plugin_name) is not None

    def get(self, plugin_name: str) -> InstalledPluginInfo | None:
        """The record of the plugin of that exact name, or None."""
        return next((p for p in self.registry.plugins if p.name == plugin_name), None)

    def remove(self, plugin_name: str) -> bool:
        """Drop the plugin's record; True when there was one."""
        return self.registry.unregister_plugin(plugin_name)
