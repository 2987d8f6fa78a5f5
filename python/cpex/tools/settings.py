"""Settings of the plugin catalog and installer (environment variables ``PLUGINS_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    """Where the catalog comes from and where installed plugins and their records go."""

    model_config = SettingsConfigDict(env_prefix="PLUGINS_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    GITHUB_TOKEN: str | None = Field(default=None, description="Token for the GitHub API (catalog updates need one).")
    # A bare host gets https://; a value with a scheme (http://127.0.0.1:8080) is used as is.
    GITHUB_API: str | None = Field(default="api.github.com", description="Host (or base URL) of the GitHub REST API.")
    REPO_URLS: str = Field(
        default="https://github.com/ibm/cpex-plugins", description="Comma-separated plugin monorepo URLs."
    )
    REGISTRY_FOLDER: str | None = Field(default="data", description="Folder of the installed-plugins registry.")
    CATALOG_FOLDER: str = Field(default="plugin-catalog", description="Folder of the downloaded plugin manifests.")
    FOLDER: str = Field(default="plugins", description="Folder of installed plugin sources.")
    VERIFY_PACKAGE_INTEGRITY: bool = Field(default=True, description="Check downloads against the index's sha256.")
    STRICT_INTEGRITY_MODE: bool = Field(default=False, description="Refuse packages whose hashes are unavailable.")


def get_catalog_settings() -> CatalogSettings:
    """Read the catalog settings afresh (the environment may have changed)."""
    return CatalogSettings()


def get_plugin_registry_path() -> Path:
    """The installed-plugins record: ``$PLUGIN_REGISTRY_FILE/installed-plugins.json`` (a folder), else ``data/``."""
    return Path(os.environ.get("PLUGIN_REGISTRY_FILE", "data")) / "installed-plugins.json"
