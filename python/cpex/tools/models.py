"""Schemas of the files the plugin CLI reads (the install manifest)."""

from __future__ import annotations

from pydantic import BaseModel


class InstallManifestPackage(BaseModel):
    """One package to install: its name, where it is published and the extras to enable."""

    package: str
    repository: str
    extras: list[str] | None = None


class InstallManifest(BaseModel):
    """A list of plugin packages (with their dependencies) to install together."""

    packages: list[InstallManifestPackage]
