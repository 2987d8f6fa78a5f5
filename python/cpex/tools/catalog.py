"""The plugin catalog: manifests gathered from GitHub monorepos and package indexes, and the installer.

The catalog is a folder (``PLUGINS_CATALOG_FOLDER``, default ``plugin-catalog``) holding one
sub-folder per plugin with its ``plugin-manifest*.yaml`` and ``versions.json``. ``update``
fills it from the monorepos' GitHub API; installs from PyPI, test-PyPI, git and local
folders add to it. Installing runs pip in ``python_executable`` (this interpreter).

Kinds: a manifest whose ``kind`` is a bare Python class path would be converted to an
``isolated_venv`` plugin (as upstream does). This cpex does not run isolated-venv plugins
yet, so such an install stops *before* anything is installed, with a message pointing to
``--no-convert`` (keep the in-process class path).
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import re
import shutil
import subprocess  # nosec B404 - pip and git only, with argument lists
import sys
import tarfile
import tempfile
import tomllib
import uuid
import zipfile
from pathlib import Path
from typing import Any, Optional

import yaml
from packaging.version import InvalidVersion, Version

from cpex.framework.constants import ISOLATED_VENV_PLUGIN_TYPE, KNOWN_PLUGIN_KINDS
from cpex.framework.models import (
    GitRepo,
    PluginManifest,
    PluginPackageInfo,
    PluginVersionInfo,
    PluginVersionRegistry,
    PyPiRepo,
)
from cpex.framework.utils import find_package_path, manifest_filename_for_class
from cpex.tools import missing_extra
from cpex.tools.integrity import (
    IntegrityVerificationError,
    compute_file_hash,
    fetch_pypi_package_hashes,
    find_matching_hash,
    verify_package_integrity,
)
from cpex.tools.settings import get_catalog_settings

# The CLI extra brings these; a catalog without them can still search and install from
# local folders, PyPI and git (only the GitHub catalog update needs PyGithub and httpx2).
try:
    import httpx2
except ImportError:
    httpx2 = None  # type: ignore[assignment]
try:
    from github import Auth, Github
except ImportError:
    Auth = Github = None  # type: ignore[assignment,misc]

logger = logging.getLogger(__name__)

KIND_KNOWN = "known"
KIND_FQN = "fqn"
KIND_REJECT = "reject"

# pip's default index is used for PyPI; test-PyPI is named explicitly, as upstream does.
TEST_PYPI_SIMPLE_INDEX_URL = "https://test.pypi.org/simple/"
PYPI_SIMPLE_INDEX_URL = "https://pypi.org/simple/"
PIP_TIMEOUT_S = 600


class IsolatedVenvUnsupportedError(RuntimeError):
    """Kept for API compatibility: isolated venvs are installed since cpex-go hosts them
    (``core/external/isolated``); nothing raises this any more."""


def classify_plugin_kind(kind: str | None) -> str:
    """``KIND_KNOWN`` for a framework kind, ``KIND_FQN`` for a class path (``pkg.mod.Class``), else ``KIND_REJECT``.

    The test is on the shape only (nothing is imported): at least two dot-separated
    identifiers, the last one capitalised like a class.
    """
    if not kind or not kind.strip():
        return KIND_REJECT
    kind = kind.strip()
    if kind in KNOWN_PLUGIN_KINDS:
        return KIND_KNOWN
    parts = kind.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts) or not parts[-1][:1].isupper():
        return KIND_REJECT
    return KIND_FQN


def supported_kinds_message() -> str:
    """The error text for a ``kind`` that is neither known nor a class path."""
    kinds = ", ".join(sorted(KNOWN_PLUGIN_KINDS))
    return (
        f"Unsupported plugin 'kind'. Expected one of: {kinds}; or a Python class path "
        "(e.g. 'package.module.ClassName') to auto-convert to an isolated_venv plugin."
    )


def convert_fqn_kind_in_place(manifest_data: dict[str, Any], convert: bool = True) -> dict[str, Any]:
    """Turn a class-path ``kind`` into ``isolated_venv`` with ``default_config.class_name``; returns the dict.

    Known kinds are left alone; an explicit ``class_name`` wins over the kind. A kind that
    is neither raises ValueError. With ``convert=False`` nothing changes (a rejected kind
    is only logged), which is what ``--no-convert`` asks for.
    """
    kind = manifest_data.get("kind")
    bucket = classify_plugin_kind(kind)
    if not convert:
        if bucket == KIND_REJECT:
            logger.warning("Leaving kind %r unconverted (--no-convert): %s", kind, supported_kinds_message())
        return manifest_data
    if bucket == KIND_KNOWN:
        return manifest_data
    if bucket == KIND_REJECT:
        raise ValueError(supported_kinds_message())
    config = manifest_data.get("default_config")
    if not isinstance(config, dict):
        config = {}
        manifest_data["default_config"] = config
    if config.get("class_name"):
        if config["class_name"] != kind:
            logger.warning("Kind %r is a class path but default_config.class_name %r is set; keeping class_name.",
                           kind, config["class_name"])
    else:
        config["class_name"] = kind
    logger.info("Auto-converting FQN plugin kind '%s' to isolated_venv", kind)
    manifest_data["kind"] = ISOLATED_VENV_PLUGIN_TYPE
    return manifest_data


def _github_base_url(api: str | None) -> str:
    api = (api or "api.github.com").strip().rstrip("/")
    return api if api.startswith(("http://", "https://")) else f"https://{api}"


def _requirement(package_name: str, version_constraint: str | None) -> str:
    """The pip requirement for ``package_name`` with its constraint, both validated."""
    info = PluginPackageInfo(pypi_package=package_name, version_constraint=version_constraint)
    # The model refuses an info with neither a PyPI package nor a git repository (none given here).
    assert info.pypi_package is not None
    return info.pypi_package + (info.version_constraint or "")


def _install_kind_of(manifest: PluginManifest) -> str:
    if manifest.monorepo is not None:
        return "monorepo"
    return "pypi" if manifest.package_info is not None else "local"


class PluginCatalog:
    """The catalog folder plus the operations that fill it and install from it."""

    def __init__(self) -> None:
        settings = get_catalog_settings()
        self.github_api = settings.GITHUB_API
        self.github_token = settings.GITHUB_TOKEN
        self.monorepos = [u.strip() for u in settings.REPO_URLS.split(",") if u.strip()]
        self.plugin_folder = settings.FOLDER
        # A staged isolated-venv install: (plugin root, manifest, requirements file), see
        # _initialize_isolated_venv / _install_package_into_venv.
        self._pending_isolated: tuple[Path, PluginManifest, str | None] | None = None
        self.catalog_folder = settings.CATALOG_FOLDER
        self.manifests: list[PluginManifest] = []
        self.auth = Auth.Token(self.github_token) if (self.github_token and Auth is not None) else None
        # The client is built lazily where possible: search and local installs need no GitHub.
        self.gh = (
            Github(auth=self.auth, base_url=_github_base_url(self.github_api), per_page=100)
            if Github is not None
            else None
        )
        self.python_executable = self._get_python_executable()

    def _get_python_executable(self) -> str:
        return sys.executable

    # ------------------------------------------------------------ folders and files

    def create_output_folder(self) -> None:
        os.makedirs(self.catalog_folder, exist_ok=True)

    def create_folder(self, base_path: str | Path, rel_path: str | Path) -> None:
        os.makedirs(Path(base_path) / rel_path, exist_ok=True)

    def create_plugin_folder(self, path: str) -> None:
        self.create_folder(self.plugin_folder, path)

    def create_catalog_folder(self, path: str) -> None:
        self.create_folder(self.catalog_folder, path)

    def save_manifest(self, manifest: PluginManifest, path: str | Path) -> None:
        """Write ``manifest`` as YAML at ``<catalog>/<path>``."""
        (Path(self.catalog_folder) / path).write_text(
            yaml.safe_dump(manifest.model_dump(), default_flow_style=False), encoding="utf-8"
        )

    def save_content(self, base_path: str | Path, content: str, path: str | Path) -> None:
        (Path(base_path) / path).write_text(content, encoding="utf-8")

    def save_plugin_content(self, content: str, path: str | Path) -> None:
        self.save_content(self.plugin_folder, content, path)

    def save_catalog_content(self, content: str, path: str | Path) -> None:
        self.save_content(self.catalog_folder, content, path)

    def _ver(self, version_str: str) -> Version:
        """PEP 440 version; an unparsable one sorts lowest."""
        try:
            return Version(version_str)
        except InvalidVersion:
            logger.debug("Could not parse version %r as PEP 440; treating as lowest", version_str)
            return Version("0")

    def update_plugin_version_registry(self, manifest: PluginManifest, relpath: Path) -> None:
        """Add the manifest's version to ``<catalog>/<name>/versions.json`` and recompute ``latest``."""
        path = Path(self.catalog_folder) / manifest.name / "versions.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                registry = PluginVersionRegistry(**json.load(fh))
        else:
            registry = PluginVersionRegistry(versions=[])
        if not any(v.version == manifest.version for v in registry.versions):
            registry.versions.append(
                PluginVersionInfo(
                    version=manifest.version,
                    manifest_file=str(relpath),
                    released=datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
                )
            )
        if registry.versions:
            registry.latest = max(registry.versions, key=lambda v: self._ver(v.version))
        path.write_text(json.dumps(registry.model_dump(mode="json"), indent=2), encoding="utf-8")

    # ------------------------------------------------------------ GitHub monorepos

    def _require_github(self) -> Github:
        """The GitHub client; a clear "install the cli extra" error when PyGithub or httpx2 is missing."""
        if self.gh is None:
            raise missing_extra("PyGithub", "updating the plugin catalog from GitHub")
        if httpx2 is None:
            raise missing_extra("httpx2", "updating the plugin catalog from GitHub")
        return self.gh

    def _transform_manifest_data(self, manifest_content: dict, name: str, member: str | None, repo_url: Any) -> dict:
        """Stamp a monorepo manifest with its name and origin, normalise ``default_configs``, convert the kind."""
        source = str(repo_url) if member is None else f"{repo_url}#subdirectory={member}"
        manifest_content["name"] = name
        manifest_content.setdefault("tags", [])
        manifest_content["monorepo"] = {
            "package_source": source,
            "repo_url": str(repo_url),
            "package_folder": member if member is not None else "",
        }
        if "default_configs" in manifest_content:
            manifest_content["default_config"] = manifest_content.pop("default_configs") or {}
        try:
            convert_fqn_kind_in_place(manifest_content)
        except ValueError as exc:
            # Keep the manifest listed; installing it is what reports the bad kind.
            logger.warning("Leaving kind %r unconverted during catalog scan: %s", manifest_content.get("kind"), exc)
        return manifest_content

    def save_manifest_content(self, content: str, path: str, repo_url: Any) -> None:
        """Save a downloaded manifest at ``<catalog>/<path>`` with its monorepo origin filled in."""
        relpath = Path(self.catalog_folder) / path
        member = path.removesuffix(f"/{relpath.name}")
        data = yaml.safe_load(content)
        data.setdefault("name", member)
        data = self._transform_manifest_data(data, data["name"], member, repo_url)
        relpath.write_text(yaml.safe_dump(data, default_flow_style=False), encoding="utf-8")
        self.update_plugin_version_registry(PluginManifest(**data), relpath)

    def download_contents(self, git_url: str, headers: dict, path: str, repo_url: Any) -> None:
        """Fetch a blob through the REST API and save it as a catalog manifest."""
        self._require_github()
        result = httpx2.get(git_url, headers=headers, timeout=30.0)
        if result.status_code != 200:
            logger.error("Failed to download file: %s status_code: %d", git_url, result.status_code)
            return
        content = base64.b64decode(result.json()["content"]).decode("utf-8")
        if "/" in path:
            self.create_catalog_folder(str(Path(path).parent))
        self.save_manifest_content(content, path, repo_url)

    def download_file(self, repo_path: str, item: dict, headers: Any, gh_repo: Any) -> str | None:
        """The text of ``item["path"]`` in ``gh_repo``, or None (logged) when it cannot be read."""
        try:
            return gh_repo.get_contents(item["path"]).decoded_content.decode("utf-8")
        except Exception as exc:
            logger.error("Failed to download file: %s error: %s", item["path"], exc)
            return None

    def _search_files(self, query: str, prefix: str, suffix: str) -> list[dict] | None:
        try:
            results = self._require_github().search_code(query=query)
            return [
                {"name": f.name, "path": f.path, "git_url": f.git_url, "html_url": f.html_url}
                for f in results
                if f.name.startswith(prefix) and f.name.endswith(suffix)
            ]
        except Exception as exc:
            logger.error("Catalog update failed with error: %s", exc)
            return None

    def _search_github_code_for_versions_json(self, repo_path: str, member: str | None, headers: Any) -> list[dict] | None:
        """The ``versions*.json`` files under ``member`` of the repository (None when the search failed)."""
        scope = f" path:{member}" if member is not None else ""
        return self._search_files(f"repo:{repo_path}{scope} filename:versions extension:json", "versions", ".json")

    def _search_github_code(self, repo_path: str, member: str | None, headers: Any) -> list[dict] | None:
        """The ``plugin-manifest*.yaml`` files under ``member`` of the repository (None when the search failed)."""
        scope = f" path:{member}" if member is not None else ""
        return self._search_files(f"repo:{repo_path}{scope} extension:yaml", "plugin-manifest", ".yaml")

    def _process_manifest_item(self, item: dict, name: str, member: str | None, repo_url: Any, headers: Any,
                               relpath: Path, repo_path: str, gh_repo: Any) -> bool:
        if not (item["name"].startswith("plugin-manifest") and item["name"].endswith(".yaml")):
            logger.warning("ignoring item[name]=%s. Not a yaml file.", item["name"])
            return False
        text = self.download_file(repo_path=repo_path, item=item, headers=headers, gh_repo=gh_repo)
        if text is None:
            logger.error("Failed to download plugin-manifest from %s", member)
            return False
        data = self._transform_manifest_data(yaml.safe_load(text), name, member, repo_url)
        relpath.write_text(yaml.safe_dump(data, default_flow_style=False), encoding="utf-8")
        self.update_plugin_version_registry(PluginManifest(**data), relpath)
        return True

    def _process_version_item(self, item: dict, member: str | None, name: str, repo_url: Any, headers: Any,
                              relpath: Path, repo_path: str, gh_repo: Any) -> None:
        self.create_output_folder()
        self.create_catalog_folder(name)
        text = self.download_file(repo_path=repo_path, item=item, headers=headers, gh_repo=gh_repo)
        if text is None:
            logger.error("Skipping version item for %s (%s): download failed", name, item.get("path"))
            return
        relpath.write_text(text, encoding="utf-8")

    def find_and_save_plugin_versions_json(self, member: str | None, name: str, repo_url: Any, headers: Any,
                                           gh_repo: Any) -> None:
        self.create_output_folder()
        self.create_catalog_folder(name)
        repo_path = repo_url.path.removeprefix("/")
        for item in self._search_github_code_for_versions_json(repo_path=repo_path, member=member, headers=headers) or []:
            relpath = Path(self.catalog_folder) / name / item["name"]
            self._process_version_item(item, member, name, repo_url, headers, relpath, repo_path, gh_repo)

    def find_and_save_plugin_manifest(self, member: str | None, name: str, repo_url: Any, headers: Any,
                                      gh_repo: Any) -> PluginManifest | None:
        self.create_output_folder()
        self.create_catalog_folder(name)
        repo_path = repo_url.path.removeprefix("/")
        for item in self._search_github_code(repo_path, member, headers) or []:
            relpath = Path(self.catalog_folder) / name / item["name"]
            self._process_manifest_item(item, name, member, repo_url, headers, relpath, repo_path, gh_repo)
        return None

    def _process_pyproject(self, gh_repo: Any, item: Any, repo_url: Any, headers: Any) -> None:
        """One plugin package of a monorepo: its pyproject.toml names it, its folder holds the manifests."""
        member = None if "/" not in item.path else item.path.removesuffix("/" + item.name)
        text = gh_repo.get_contents(item.path).decoded_content.decode("utf-8")
        name = tomllib.loads(text)["project"]["name"]
        self.find_and_save_plugin_versions_json(member=member, name=name, repo_url=repo_url, headers=headers,
                                                gh_repo=gh_repo)
        self.find_and_save_plugin_manifest(member=member, name=name, repo_url=repo_url, headers=headers,
                                           gh_repo=gh_repo)

    def update_catalog_with_pyproject(self) -> bool:
        """Refresh the catalog from every configured monorepo. Returns True on failure (no token)."""
        if self.github_token is None:
            logger.error("No GitHub token set")
            return True
        gh = self._require_github()
        headers = {"accept": "application/vnd.github+json", "authorization": f"Bearer {self.github_token}"}
        self.create_output_folder()
        repos: dict[str, Any] = {}
        for repo in self.monorepos:
            repo_url = httpx2.URL(repo.strip())
            repo_path = repo_url.path.removeprefix("/")
            try:
                if repo_path not in repos:
                    repos[repo_path] = gh.get_repo(repo_path)
                results = gh.search_code(query=f"repo:{repo_path} filename:pyproject extension:toml")
                for item in results:
                    if "pyproject.toml" not in item.name:
                        continue
                    try:
                        self._process_pyproject(repos[repo_path], item, repo_url, headers)
                    except Exception as exc:  # one broken package must not hide the others
                        logger.error("Error processing pyproject.toml at %s: %s", item.path, exc)
            except Exception as exc:
                logger.error("Error accessing repository %s: %s", repo_path, exc)
        return False

    # ------------------------------------------------------------ lookups

    def load(self) -> None:
        """Read every ``plugin-manifest*.yaml`` under the catalog folder; unreadable ones are logged and skipped."""
        self.manifests = []
        root = Path(self.catalog_folder)
        if not root.exists():
            logger.warning("Output folder '%s' does not exist. No manifests to load.", self.catalog_folder)
            return
        paths = sorted(root.rglob("plugin-manifest*.yaml"))
        if not paths:
            logger.warning("No plugin-manifest.yaml files found in '%s'.", self.catalog_folder)
        for path in paths:
            try:
                with open(path, encoding="utf-8") as fh:
                    self.manifests.append(PluginManifest(**yaml.safe_load(fh)))
            except Exception as exc:
                logger.error("Failed to load manifest from '%s': %s", path, exc)

    def search(self, plugin_name: str | None) -> Optional[list[PluginManifest]]:
        """Manifests whose name contains ``plugin_name`` or that carry it as a tag (all when None); None when none match."""
        if not self.manifests:
            self.load()
        needle = plugin_name.lower() if plugin_name is not None else None
        found = [m for m in self.manifests if needle is None or needle in m.name.lower() or needle in m.tags]
        return found or None

    def find(self, plugin_name: str) -> Optional[PluginManifest]:
        """The manifest named ``plugin_name`` (case-insensitive), or None."""
        if not self.manifests:
            self.load()
        return next((m for m in self.manifests if m.name.lower() == plugin_name.lower()), None)

    # ------------------------------------------------------------ pip and archives

    def _pip(self, *args: str, python: str | None = None, timeout: int = PIP_TIMEOUT_S) -> subprocess.CompletedProcess:
        return subprocess.run(  # nosec B603 - argument list, no shell
            [python or self.python_executable, "-m", "pip", *args],
            check=True, capture_output=True, text=True, timeout=timeout,
        )

    def _locate_installed(self, package_name: str) -> Path:
        """Where pip put the package, asked of the interpreter that installed it."""
        if self.python_executable == sys.executable:
            return find_package_path(package_name)
        script = (
            "import sys; from cpex.framework.utils import find_package_path; "
            "print(find_package_path(sys.argv[1]))"
        )
        out = subprocess.run(  # nosec B603
            [self.python_executable, "-c", script, package_name], check=True, capture_output=True, text=True, timeout=60
        )
        return Path(out.stdout.strip())

    @staticmethod
    def _is_isolated(manifest: PluginManifest) -> bool:
        return manifest.kind == ISOLATED_VENV_PLUGIN_TYPE

    def _isolated_root(self, manifest: PluginManifest) -> Path:
        """``<plugins>/<class root>``: where the plugin's venv, cache key and manifest live."""
        class_name = (manifest.default_config or {}).get("class_name")
        if not class_name or not isinstance(class_name, str):
            raise RuntimeError(f"Failed to initialize isolated venv for {manifest.name}: default_config.class_name is not set")
        return Path(self.plugin_folder) / class_name.split(".")[0]

    def install_folder_via_pip(self, manifest: PluginManifest, verify_integrity: bool = True) -> Path | None:
        """pip-install a monorepo plugin from ``git+<package_source>``; returns the installed package's folder."""
        if manifest.monorepo is None:
            raise RuntimeError("PluginManifest.monorepo can not be None.")
        if self._is_isolated(manifest):
            root = self._initialize_isolated_venv(manifest, None)
            self._install_package_into_venv(root, [f"git+{manifest.monorepo.package_source}"])
            return root
        try:
            self._pip("install", f"git+{manifest.monorepo.package_source}")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to install {manifest.name}: {exc.stderr}") from exc
        logger.info("Successfully installed package: %s", manifest.name)
        try:
            return self._locate_installed(manifest.name)
        except Exception as exc:  # installed, but where is unknown: the registry falls back to its own lookup
            logger.warning("Installed %s but could not locate it: %s", manifest.name, exc)
            return None

    def _index_args(self, use_test: bool) -> list[str]:
        return ["--index-url", TEST_PYPI_SIMPLE_INDEX_URL] if use_test else []

    def _install_package(self, package_name: str, version_constraint: str | None, use_test: bool = False) -> None:
        """pip-install ``package_name`` (with its constraint) from PyPI or test-PyPI."""
        try:
            target = _requirement(package_name, version_constraint)
            self._pip("install", *self._index_args(use_test), target)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to install {package_name}: {exc.stderr}") from exc
        except Exception as exc:
            raise RuntimeError(f"Unexpected error installing {package_name}: {exc}") from exc

    def _load_manifest_file(self, manifest_path: Path) -> dict[str, Any]:
        if not manifest_path.exists():
            raise FileNotFoundError(f"plugin-manifest.yaml not found at {manifest_path}")
        try:
            with open(manifest_path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise RuntimeError(f"Failed to parse manifest YAML {manifest_path}: {exc}") from exc
        except OSError as exc:
            raise RuntimeError(f"Error reading manifest file {manifest_path}: {exc}") from exc
        if not isinstance(data, dict):
            raise RuntimeError(f"Invalid manifest format in {manifest_path}: expected a mapping, got {type(data).__name__}")
        return data

    def _normalize_manifest_data(self, manifest_data: dict[str, Any], package_name: str,
                                 version_constraint: str | None, convert: bool = True) -> PluginManifest:
        """Validate a package's manifest, defaulting its name and recording the package it came from."""
        try:
            manifest_data.setdefault("tags", [])
            manifest_data.setdefault("name", package_name)
            if "default_config" not in manifest_data and "default_configs" in manifest_data:
                manifest_data["default_config"] = manifest_data.pop("default_configs") or {}
            convert_fqn_kind_in_place(manifest_data, convert=convert)
            manifest = PluginManifest(**manifest_data)
            if manifest.package_info is None:
                manifest.package_info = PyPiRepo(pypi_package=package_name, version_constraint=version_constraint)
            else:
                manifest.package_info.pypi_package = package_name
                if version_constraint is not None:
                    manifest.package_info.version_constraint = version_constraint
            return manifest
        except Exception as exc:
            raise RuntimeError(f"Failed to validate manifest for {package_name}: {exc}") from exc

    def _persist_manifest(self, manifest: PluginManifest, package_name: str) -> None:
        try:
            self.create_catalog_folder(package_name)
            self.save_manifest(manifest, f"{package_name}/plugin-manifest.yaml")
        except Exception as exc:
            raise RuntimeError(f"Failed to save manifest for {package_name}: {exc}") from exc

    def _persist_manifest_to_plugin_dir(self, manifest: PluginManifest) -> Path | None:
        """For an isolated-venv plugin, its manifest under ``<plugins>/<class root>/``; None otherwise."""
        class_name = (manifest.default_config or {}).get("class_name")
        if manifest.kind != ISOLATED_VENV_PLUGIN_TYPE or not class_name:
            return None
        folder = Path(self.plugin_folder) / class_name.split(".")[0]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / manifest_filename_for_class(class_name)
        path.write_text(yaml.safe_dump(manifest.model_dump(), default_flow_style=False), encoding="utf-8")
        return path

    @staticmethod
    def _safe_zip_extract(zip_ref: zipfile.ZipFile, extract_dir: Path) -> None:
        """Extract a zip, refusing the whole archive if any member would land outside ``extract_dir``."""
        base = extract_dir.resolve()
        for member in zip_ref.infolist():
            name = member.filename
            if os.path.isabs(name) or name.startswith(("/", "\\")) or not (base / name).resolve().is_relative_to(base):
                raise RuntimeError(f"Unsafe path in archive: {name}")
        zip_ref.extractall(extract_dir)

    def _extract_package_archive(self, package_file: Path, extract_dir: Path) -> None:
        """Unpack a wheel, zip or tarball; tarballs go through the ``data`` filter (no links out, no devices)."""
        name = package_file.name
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(package_file) as zf:
                self._safe_zip_extract(zf, extract_dir)
        elif ".tar" in name or package_file.suffix in (".gz", ".bz2", ".tgz"):
            with tarfile.open(package_file, "r:*") as tf:
                try:
                    tf.extractall(extract_dir, filter="data")
                except tarfile.FilterError as exc:
                    raise RuntimeError(f"Unsafe path in archive: {exc}") from exc
        else:
            raise RuntimeError(f"Unsupported package format: {package_file}")

    def _log_hash(self, package_name: str, archive: Path) -> None:
        try:
            logger.info("Package integrity hash for %s (%s): SHA256=%s", package_name, archive.name,
                        compute_file_hash(archive))
        except Exception as exc:
            logger.warning("Failed to compute package hash: %s", exc)

    def _download_monorepo_folder_to_temp(self, repo_url: str, package_name: str, verify_integrity: bool = True) -> Path:
        """``pip download`` a monorepo folder and unpack it; returns the unpacked folder (caller removes its parent)."""
        temp_dir = Path(tempfile.mkdtemp(prefix=f"cpex_plugin_{uuid.uuid4()}_"))
        try:
            self._pip("download", "--no-deps", "--dest", str(temp_dir), repo_url)
            files = sorted(temp_dir.glob("*"))
            if not files:
                raise RuntimeError(f"No files downloaded for {package_name}")
            if verify_integrity:
                self._log_hash(package_name, files[0])
            extract_dir = temp_dir / "extracted"
            extract_dir.mkdir()
            self._extract_package_archive(files[0], extract_dir)
            return extract_dir
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise RuntimeError(f"Failed to download {package_name}: {exc.stderr}") from exc
        except Exception as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise RuntimeError(f"Unexpected error downloading {package_name}: {exc}") from exc

    def _expected_hashes(self, package_name: str, version_constraint: str | None, use_test: bool) -> dict:
        pinned = re.search(r"==\s*([0-9][0-9A-Za-z.+!-]*)", version_constraint or "")
        try:
            return fetch_pypi_package_hashes(package_name=package_name, version=pinned.group(1) if pinned else None,
                                             use_test=use_test)
        except Exception as exc:
            if get_catalog_settings().STRICT_INTEGRITY_MODE:
                raise RuntimeError(f"Cannot verify {package_name}: its hashes are unavailable ({exc}) "
                                   "and PLUGINS_STRICT_INTEGRITY_MODE is set") from exc
            logger.warning("Failed to fetch hashes for %s: %s. Proceeding without verification.", package_name, exc)
            return {}

    def _download_package_to_temp(self, package_name: str, version_constraint: str | None, use_test: bool = False,
                                  verify_integrity: bool = True) -> Path:
        """``pip download`` one package (no dependencies), check its sha256, unpack it; returns the unpacked folder."""
        temp_dir = Path(tempfile.mkdtemp(prefix=f"cpex_plugin_{uuid.uuid4()}_"))
        try:
            target = _requirement(package_name, version_constraint)
            expected = self._expected_hashes(package_name, version_constraint, use_test) if verify_integrity else {}
            self._pip("download", "--no-deps", "--dest", str(temp_dir), *self._index_args(use_test), target)
            files = sorted(temp_dir.glob("*"))
            if not files:
                raise RuntimeError(f"No files downloaded for {package_name}")
            package_file = files[0]
            if verify_integrity:
                digest = find_matching_hash(package_file, expected, package_name) if expected else None
                if digest:
                    verify_package_integrity(package_file, digest, package_name, strict=True)
                elif get_catalog_settings().STRICT_INTEGRITY_MODE:
                    raise RuntimeError(f"No published sha256 for {package_file.name} and "
                                       "PLUGINS_STRICT_INTEGRITY_MODE is set")
            extract_dir = temp_dir / "extracted"
            extract_dir.mkdir()
            self._extract_package_archive(package_file, extract_dir)
            return extract_dir
        except IntegrityVerificationError:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise RuntimeError(f"Failed to download {package_name}: {exc.stderr}") from exc
        except Exception as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise RuntimeError(f"Unexpected error downloading {package_name}: {exc}") from exc

    def _find_manifest_in_extracted_package(self, extract_dir: Path, package_name: str) -> Path:
        found = sorted(extract_dir.rglob("plugin-manifest.yaml"))
        if not found:
            raise FileNotFoundError(f"plugin-manifest.yaml not found in {package_name} package")
        return found[0]

    def _find_requirements_in_extracted_package(self, extract_dir: Path, package_name: str,
                                                requirements_file: str) -> Path:
        """The package's requirements file; a name that climbs out of the package is refused."""
        normalized = os.path.normpath(requirements_file)
        if normalized.startswith("..") or os.path.isabs(normalized):
            raise ValueError(f"Invalid requirements file path '{requirements_file}': path traversal attempts are not allowed")
        if normalized != requirements_file.replace("\\", "/").strip("/"):
            raise ValueError(f"Invalid requirements file path '{requirements_file}': suspicious path components detected")
        found = sorted(extract_dir.rglob(requirements_file))
        if not found:
            raise FileNotFoundError(f"requirements file {requirements_file} not found in {package_name} package")
        if not found[0].resolve().is_relative_to(extract_dir.resolve()):
            raise ValueError(f"Security violation: requirements file '{found[0]}' is outside the package directory")
        return found[0]

    def _initialize_isolated_venv(self, manifest: PluginManifest, package_path: Path | None) -> Path:
        """Stage an isolated-venv install: the requirements file (copied out of the package)
        and the manifest go into the plugin root; the venv itself is built by
        ``_install_package_into_venv``, together with the plugin's package, so a venv whose
        package install failed never reads as a valid cache. Returns the plugin root."""
        root = self._isolated_root(manifest)
        root.mkdir(parents=True, exist_ok=True)
        requirements: str | None = None
        rel = (manifest.default_config or {}).get("requirements_file")
        if rel and package_path is not None:
            try:
                source = self._find_requirements_in_extracted_package(package_path, manifest.name, rel)
                target = root / os.path.normpath(rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
                requirements = str(target)
            except FileNotFoundError:
                logger.info("No requirements file %r in %s; continuing without one", rel, manifest.name)
        self._persist_manifest_to_plugin_dir(manifest)
        self._pending_isolated = (root, manifest, requirements)
        return root

    def _build_isolated_venv(self, manifest: PluginManifest, requirements: str | None, pip_args: list[str]) -> None:
        """The venv, through the runtime's cache rules (the core's ``isolated.Prepare``)."""
        from cpex.framework.isolated.client import prepare_venv  # starts the core

        class_name = str((manifest.default_config or {})["class_name"])
        _, created = prepare_venv(str(self.plugin_folder), class_name, manifest.version, requirements, [pip_args])
        logger.info("%s isolated venv for %s", "Built" if created else "Reused the cached", manifest.name)

    def _get_venv_python_executable(self, venv_path: Path) -> str:
        python = venv_path / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
        if not python.exists():
            raise FileNotFoundError(f"Python executable not found at {python}")
        return str(python)

    def _install_package_into_venv(self, plugin_path: Path, pip_args: list[str]) -> None:
        """``pip install <pip_args>`` into ``<plugin_path>/.venv``: for a staged isolated
        install the venv is built (or reused) first, through the runtime's cache rules."""
        pending = self._pending_isolated
        if pending is not None and Path(pending[0]) == Path(plugin_path):
            self._pending_isolated = None
            _, manifest, requirements = pending
            try:
                self._build_isolated_venv(manifest, requirements, pip_args)
            except RuntimeError as exc:
                raise RuntimeError(f"Failed to install plugin package into venv: {exc}") from exc
            return
        python = self._get_venv_python_executable(Path(plugin_path) / ".venv")
        try:
            self._pip("install", *pip_args, python=python)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to install plugin package into venv: {exc.stderr}") from exc

    def _commit_isolated_venv_cache(self) -> None:
        """Nothing to commit (kept for API parity): the core writes the venv's cache key
        itself, only after the package install succeeded."""

    def _find_and_load_versions_json(self, manifest: PluginManifest, plugin_path: Path | None,
                                     plugin_package_name: str) -> Path | None:
        """Copy the installed package's ``versions.json`` into the catalog; returns its folder, or None."""
        try:
            if plugin_path is None:
                return None
            source = Path(plugin_path) / "versions.json"
            if not source.exists():
                logger.debug("No versions.json found at %s", source)
                return None
            target = Path(self.catalog_folder) / manifest.name / "versions.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(json.loads(source.read_text(encoding="utf-8")), indent=2), encoding="utf-8")
            return Path(plugin_path)
        except Exception as exc:
            logger.warning("Failed to find/load versions.json for %s: %s", plugin_package_name, exc)
            return None

    def _handle_plugin_installation(self, manifest: PluginManifest, package_path: Path,
                                    install_command: list[str] | None = None) -> Path | None:
        if self._is_isolated(manifest):
            return self._initialize_isolated_venv(manifest, package_path)
        if install_command:
            subprocess.run(install_command, check=True, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)  # nosec B603
        return None

    def _finalize_plugin_installation(self, manifest: PluginManifest, plugin_path: Path | None,
                                      package_name: str) -> Path | None:
        """Record the installed manifest in the catalog; returns the package folder."""
        self._persist_manifest(manifest, package_name)
        found = self._find_and_load_versions_json(manifest, plugin_path, package_name)
        if plugin_path is not None:
            self.update_plugin_version_registry(manifest=manifest, relpath=plugin_path)
        return found if found is not None else plugin_path

    # ------------------------------------------------------------ installs

    def install_from_pypi(self, plugin_package_name: str, version_constraint: str | None = None,
                          use_pytest: bool = False, verify_integrity: bool = True,
                          convert: bool = True) -> tuple[PluginManifest, Path | None]:
        """Install a plugin package from PyPI (``use_pytest``: test-PyPI) after reading its manifest.

        The package is downloaded and its manifest validated first, so a package without a
        manifest, with a bad kind or with a wrong hash is never installed.
        """
        extract_dir = self._download_package_to_temp(plugin_package_name, version_constraint, use_pytest,
                                                      verify_integrity=verify_integrity)
        try:
            manifest_path = self._find_manifest_in_extracted_package(extract_dir, plugin_package_name)
            manifest = self._normalize_manifest_data(self._load_manifest_file(manifest_path), plugin_package_name,
                                                     version_constraint, convert=convert)
            root = self._handle_plugin_installation(manifest, manifest_path.parent)
            if root is not None:
                target = _requirement(plugin_package_name, version_constraint)
                self._install_package_into_venv(root, [*self._index_args(use_pytest), target])
                return manifest, self._finalize_plugin_installation(manifest, root, plugin_package_name)
            self._install_package(plugin_package_name, version_constraint, use_pytest)
            plugin_path = self._locate_installed(plugin_package_name)
            return manifest, self._finalize_plugin_installation(manifest, plugin_path, plugin_package_name)
        finally:
            shutil.rmtree(extract_dir.parent, ignore_errors=True)

    @staticmethod
    def _parse_git_source(url: str) -> tuple[str, str, str, str | None]:
        """``Name @ git+<url>[@ref]`` -> (name, git+spec, url, ref)."""
        if " @ " not in url:
            raise ValueError(f"Invalid Git URL format: '{url}'. Expected format: 'PackageName @ git+protocol://repo_url'")
        name, spec = (s.strip() for s in url.split(" @ ", 1))
        if not spec.startswith("git+"):
            raise ValueError(f"Git URL must start with 'git+': '{spec}'")
        repo, ref = spec[4:], None
        # A ref follows the last '@' of the path part (an ssh user@host prefix is not a ref).
        tail = repo.split("://", 1)[-1]
        if "@" in tail.split("/", 1)[-1] and not repo.startswith("git@"):
            repo, ref = repo.rsplit("@", 1)
        try:
            PluginPackageInfo(git_repository=repo, git_branch_tag_commit=ref)
        except Exception as exc:
            raise ValueError(f"Invalid Git repository URL: {exc}") from exc
        return name, spec, repo, ref

    def install_from_git(self, url: str, verify_integrity: bool = True,
                         convert: bool = True) -> tuple[PluginManifest, Path | None]:
        """Install ``Name @ git+<repo>[@ref]`` after reading the manifest of the downloaded package."""
        package_name, spec, repo, ref = self._parse_git_source(url)
        temp_dir = Path(tempfile.mkdtemp(prefix="cpex_git_"))
        extract_dir = temp_dir / "extracted"
        extract_dir.mkdir(parents=True, exist_ok=True)
        try:
            pip_url = f"git+{repo}" + (f"@{ref}" if ref else "")
            self._pip("download", "--no-deps", "--dest", str(temp_dir), pip_url)
            archives = [p for p in sorted(temp_dir.iterdir()) if p.name.endswith((".tar.gz", ".zip", ".whl"))]
            if not archives:
                raise RuntimeError(f"No package archive found after downloading from {repo}")
            if verify_integrity:
                self._log_hash(package_name, archives[0])
            self._extract_package_archive(archives[0], extract_dir)
            manifest_path = self._find_manifest_in_extracted_package(extract_dir, package_name)
            manifest = self._normalize_manifest_data(self._load_manifest_file(manifest_path), package_name, None,
                                                     convert=convert)
            manifest.git_repo = GitRepo(git_repository=repo, git_branch_tag_commit=ref)
            root = self._handle_plugin_installation(manifest, manifest_path.parent)
            if root is not None:
                self._install_package_into_venv(root, [f"{package_name} @ {spec}"])
                return manifest, self._finalize_plugin_installation(manifest, root, package_name)
            self._pip("install", f"{package_name} @ {spec}")
            plugin_path = self._locate_installed(package_name)
            return manifest, self._finalize_plugin_installation(manifest, plugin_path, package_name)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to install {package_name} from Git: {exc.stderr}") from exc
        except Exception as exc:
            raise RuntimeError(f"Unexpected error installing {package_name} from Git: {exc}") from exc
        finally:
            shutil.rmtree(temp_dir, ignore_errors=True)

    @staticmethod
    def _find_near(source: Path, filename: str) -> Path | None:
        """``source/filename`` or, failing that, the first ``<subfolder>/filename`` one level down."""
        if (source / filename).exists():
            return source / filename
        for sub in sorted(p for p in source.iterdir() if p.is_dir()):
            if (sub / filename).exists():
                return sub / filename
        return None

    def install_from_local(self, source: Path, convert: bool = True) -> tuple[PluginManifest, Path]:
        """Install a plugin project folder in editable mode; returns its manifest and the manifest's folder."""
        source = Path(source)
        if not source.is_dir():
            raise FileNotFoundError(f"Local plugin source {source} is not a directory")
        pyproject = self._find_near(source, "pyproject.toml")
        if pyproject is None:
            raise FileNotFoundError(f"pyproject.toml not found in {source} or its immediate subdirectories")
        try:
            project_name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        except Exception as exc:
            raise RuntimeError(f"Failed to parse pyproject.toml at {pyproject}: {exc}") from exc
        manifest_path = self._find_near(source, "plugin-manifest.yaml")
        if manifest_path is None:
            raise FileNotFoundError(f"plugin-manifest.yaml not found in {source} or its immediate subdirectories")
        manifest = self._normalize_manifest_data(self._load_manifest_file(manifest_path), project_name, None,
                                                 convert=convert)
        manifest.local = str(source.resolve())
        if self._is_isolated(manifest):
            root = self._initialize_isolated_venv(manifest, manifest_path.parent)
            self._install_package_into_venv(root, ["-e", str(source)])
            self._persist_manifest(manifest, manifest.name)
            self.update_plugin_version_registry(manifest=manifest, relpath=root)
            return manifest, root
        try:
            self._pip("install", "-e", str(source))
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to install plugin from {source}: {exc.stderr}") from exc
        plugin_path = manifest_path.parent
        self._persist_manifest(manifest, manifest.name)
        found = self._find_and_load_versions_json(manifest, plugin_path, manifest.name)
        self.update_plugin_version_registry(manifest=manifest, relpath=plugin_path)
        return manifest, found if found is not None else plugin_path

    def uninstall_package(self, package_name: str, manifest: PluginManifest) -> bool:
        """``pip uninstall`` the plugin's package (isolated-venv plugins are refused: none can be installed)."""
        if self._is_isolated(manifest):
            return self._uninstall_isolated(package_name, manifest)
        try:
            self._pip("uninstall", "-y", package_name, timeout=120)
            return True
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"Failed to uninstall {package_name}: {exc.stderr}") from exc
        except Exception as exc:
            raise RuntimeError(f"Unexpected error uninstalling {package_name}: {exc}") from exc

    def _uninstall_isolated(self, package_name: str, manifest: PluginManifest) -> bool:
        """Uninstall from the plugin's venv, then remove the venv and its cache key."""
        root = self._isolated_root(manifest)
        venv = root / ".venv"
        if venv.exists():
            try:
                self._pip("uninstall", "-y", package_name, python=self._get_venv_python_executable(venv), timeout=120)
            except subprocess.CalledProcessError as exc:
                logger.warning("pip uninstall %s in %s failed: %s", package_name, venv, exc.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        shutil.rmtree(root / ".cpex", ignore_errors=True)
        return True
