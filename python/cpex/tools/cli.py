"""The ``cpex`` / ``mcpplugins`` command line: bootstrap plugin projects, list, search, install and remove plugins.

Console scripts ``cpex`` and ``mcpplugins`` both run :func:`main`; the ContextForge
gateway mounts :data:`app` as ``cforge plugin``. Exit codes: 0 success, 1 general
error, 2 invalid arguments, 3 plugin not found, 4 operation failed.

Needs the ``cli`` extra (``pip install 'cpex[cli]'``).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess  # nosec B404 - git config only, fixed argument lists
from pathlib import Path
from typing import List, Optional

from cpex.tools import CLI_EXTRA_HINT, missing_extra

try:
    import typer
    from rich.console import Console
    from rich.markup import escape
    from typing_extensions import Annotated
except ImportError as exc:  # the Typer app object is this module's whole point
    raise missing_extra(exc.name or "typer", "the cpex command line (cpex.tools.cli)") from exc
try:
    import inquirer
except ImportError:  # only the interactive prompts need it; --yes works without
    inquirer = None

from cpex.framework.loader.config import ConfigLoader, ConfigSaver
from cpex.framework.models import Config, PluginManifest, PluginMode
from cpex.framework.settings import settings
from cpex.tools.catalog import PluginCatalog, _install_kind_of
from cpex.tools.plugin_registry import PluginRegistry
from cpex.tools.settings import get_catalog_settings

EXIT_SUCCESS = 0
EXIT_GENERAL_ERROR = 1
EXIT_INVALID_ARGS = 2
EXIT_NOT_FOUND = 3
EXIT_OPERATION_FAILED = 4

logger = logging.getLogger(__name__)
console = Console()

LOCAL_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_TYPES = ("native", "external", "isolated", "go")
DEFAULT_TEMPLATE_URL = "https://github.com/contextforge-org/cpex.git"
DEFAULT_AUTHOR_NAME = "<changeme>"
DEFAULT_AUTHOR_EMAIL = "<changeme>"
DEFAULT_PROJECT_DIR = Path("./.")
DEFAULT_INSTALL_MANIFEST = Path("plugins/install.yaml")
DEFAULT_IMAGE_TAG = "contextforge-plugin:latest"
DEFAULT_IMAGE_BUILDER = "docker"
DEFAULT_BUILD_CONTEXT = "."
DEFAULT_CONTAINERFILE_PATH = Path("docker/Dockerfile")
DEFAULT_VCS_REF = "main"
DEFAULT_INSTALLER = "uv pip install"
PLUGIN_ACTIONS = ("list", "info", "install", "search", "versions", "uninstall")
INSTALL_TYPES = ("monorepo", "pypi", "test-pypi", "git", "local")
OUTPUT_FORMATS = ("text", "json")

markup_mode = settings.cli_markup_mode or typer.core.DEFAULT_MARKUP_MODE
app = typer.Typer(
    help="Command line tools for authoring and packaging plugins.",
    add_completion=settings.cli_completion,
    rich_markup_mode=None if markup_mode == "disabled" else markup_mode,
)


# ---------------------------------------------------------------- helpers


def command_exists(command_name: str) -> bool:
    """Whether ``command_name`` is an executable on PATH."""
    return shutil.which(command_name) is not None


def _git_config(key: str, default: str) -> str:
    try:
        res = subprocess.run(["git", "config", key], stdout=subprocess.PIPE, check=False)  # nosec B603 B607
        return res.stdout.strip().decode() if not res.returncode else default
    except Exception:
        return default


def git_user_name() -> str:
    """``git config user.name``, or the placeholder when git or the setting is missing."""
    return _git_config("user.name", DEFAULT_AUTHOR_NAME)


def git_user_email() -> str:
    """``git config user.email``, or the placeholder when git or the setting is missing."""
    return _git_config("user.email", DEFAULT_AUTHOR_EMAIL)


def _require_inquirer() -> None:
    if inquirer is None:
        console.print(f":x: Interactive prompts need inquirer ({escape(CLI_EXTRA_HINT)}); pass --yes to skip them.")
        raise typer.Exit(EXIT_GENERAL_ERROR)


# ---------------------------------------------------------------- bootstrap


@app.command(help="Creates a new plugin project from template.")
def bootstrap(
    destination: Annotated[
        Path, typer.Option("--destination", "-d", help="The directory in which to bootstrap the plugin project.")
    ] = DEFAULT_PROJECT_DIR,
    template_url: Annotated[
        Optional[str],
        typer.Option("--template_url", "-u",
                     help="The URL to the plugins cookiecutter template. Overrides local templates when provided."),
    ] = None,
    template_type: Annotated[
        str, typer.Option("--template_type", "-t", help="Plugin template type: native, external, isolated or go.")
    ] = "native",
    vcs_ref: Annotated[
        str, typer.Option("--vcs_ref", "-r", help="The version control system tag/branch/commit to use for the template.")
    ] = DEFAULT_VCS_REF,
    no_input: Annotated[bool, typer.Option("--no_input", help="Use defaults without prompting.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry_run", help="Run but do not make any changes.")] = False,
) -> None:
    """Generate a plugin project at ``destination`` (its last path part becomes the plugin slug)."""
    try:
        from cookiecutter.main import cookiecutter  # heavy: only this command needs it
    except ImportError as exc:
        logger.error("cookiecutter is not installed. Install with: %s", CLI_EXTRA_HINT)
        console.print(f":x: bootstrap needs cookiecutter, which is not installed: {escape(CLI_EXTRA_HINT)}")
        raise typer.Exit(EXIT_GENERAL_ERROR) from exc

    local_template = LOCAL_TEMPLATES_DIR / template_type
    if template_url is None and not local_template.is_dir() and LOCAL_TEMPLATES_DIR.is_dir():
        known = ", ".join(sorted(p.name for p in LOCAL_TEMPLATES_DIR.iterdir() if (p / "cookiecutter.json").exists()))
        console.print(f":x: Unknown template type {escape(repr(template_type))}: expected one of {known}.")
        raise typer.Exit(EXIT_INVALID_ARGS)

    if dry_run:
        source = template_url if template_url is not None else str(local_template)
        logger.info("Dry run: would create plugin project at %s from template %s (type=%s)",
                    destination, source, template_type)
        console.print(escape(f"Dry run: would create {destination} from {source} (type={template_type})"))
        return

    try:
        output_dir = str(destination.parent) if destination.parent != destination else "."
        extra_context = {"plugin_slug": destination.name, "author": git_user_name(), "email": git_user_email()}
        if template_url is not None or not local_template.is_dir():
            if not command_exists("git"):
                logger.error("git is required to fetch remote templates but was not found.")
                console.print(":x: git is required to fetch remote templates but was not found.")
                raise typer.Exit(EXIT_GENERAL_ERROR if template_url is not None else EXIT_OPERATION_FAILED)
            cookiecutter(
                template=template_url if template_url is not None else DEFAULT_TEMPLATE_URL,
                checkout=vcs_ref,
                directory=f"cpex/templates/{template_type}",
                output_dir=output_dir,
                no_input=no_input,
                extra_context=extra_context,
            )
        else:
            cookiecutter(template=str(local_template), output_dir=output_dir, no_input=no_input,
                         extra_context=extra_context)
    except (SystemExit, typer.Exit):
        raise
    except Exception as exc:
        logger.exception("An error was caught while copying template.")
        console.print(f":x: Failed to create plugin project: {escape(str(exc))}")
        raise typer.Exit(EXIT_OPERATION_FAILED) from exc


# ---------------------------------------------------------------- plugins/config.yaml


def instance_name_is_unique(config: Config, suggested_instance_name: str) -> bool:
    """Whether no plugin of ``config`` already uses that instance name."""
    return not any(p.name == suggested_instance_name for p in (config.plugins or []))


def update_plugins_config_yaml(manifest: PluginManifest) -> None:
    """Append an instance of ``manifest`` to the plugins config file (``PLUGINS_CONFIG_FILE``).

    The instance is named after the plugin (``_1``, ``_2``... when taken), runs in
    ``sequential`` mode at priority 100 with the manifest's default config.
    """
    config: Config = ConfigLoader.load_config(settings.config_file)
    base = manifest.suggest_instance_name()
    name, n = base, 1
    while not instance_name_is_unique(config, suggested_instance_name=name):
        name, n = f"{base}_{n}", n + 1
    entry = manifest.create_instance_config(instance_name=name, mode=PluginMode.SEQUENTIAL, priority=100)
    if config.plugins is None:
        config.plugins = []
    if not config.plugin_dirs:
        config.plugin_dirs = [f"{get_catalog_settings().FOLDER}"]
    config.plugins.append(entry)
    ConfigSaver.save_config(config, settings.config_file)


def remove_from_plugins_config_yaml(manifest: PluginManifest) -> bool:
    """Remove the instances of ``manifest`` (same kind, name containing the plugin's) from the config file."""
    try:
        config: Config = ConfigLoader.load_config(settings.config_file)
        if config.plugins is None:
            return False
        kept = [p for p in config.plugins if not (p.kind == manifest.kind and manifest.name in p.name)]
        if len(kept) == len(config.plugins):
            return False
        config.plugins = kept
        ConfigSaver.save_config(config, settings.config_file)
        return True
    except Exception as exc:
        logger.error("Error removing plugin from config: %s", exc)
        return False


# ---------------------------------------------------------------- read commands


def list_registered_plugins(type: str | None, fmt: str = "text") -> None:  # noqa: A002 - upstream's name
    """Print the installed plugins."""
    plugins = PluginRegistry().registry.plugins
    if fmt == "json":
        rows = [{"name": p.name, "version": p.version, "installation_type": p.installation_type} for p in plugins]
        print(json.dumps({"plugins": rows}))  # plain print: rich would wrap long JSON lines
        return
    if not plugins:
        logger.info("No plugins registered.")
        console.print("No plugins registered.")
        return
    for p in plugins:
        console.print(f"name: {p.name} version: {p.version} installation type: {p.installation_type}\n")


def search(plugin_name: str | None, catalog: PluginCatalog, fmt: str = "text") -> None:
    """Print the catalog plugins whose name (or a tag) matches ``plugin_name`` (all when None)."""
    with console.status("Searching for available plugins ...", spinner="dots"):
        found = catalog.search(plugin_name)
    if fmt == "json":
        rows = [{"name": p.name, "version": p.version, "installation_type": _install_kind_of(p)} for p in found or []]
        print(json.dumps({"results": rows}))
        return
    if not found:
        console.log("No plugins found.")
        return
    console.log("Available plugins:")
    for p in found:
        console.log(f"name: {p.name} version: {p.version} installation type: {_install_kind_of(p)}")


def versions(plugin_name: str | None, catalog: PluginCatalog, fmt: str = "text") -> None:
    """Print the catalog versions of a plugin (one line per catalog manifest)."""
    return search(plugin_name, catalog, fmt=fmt)


def info(plugin_name: str | None, fmt: str = "text") -> None:
    """Print the records of installed plugins whose name or kind contains ``plugin_name`` (all when None)."""
    needle = plugin_name.lower() if plugin_name is not None else None
    matches = [
        p for p in PluginRegistry().registry.plugins
        if needle is None or needle in p.name.lower() or needle in p.kind.lower()
    ]
    if fmt == "json":
        print(json.dumps({"plugins": [p.model_dump(mode="json") for p in matches]}))
        return
    if not matches:
        console.print("No plugins found")
        return
    for p in matches:
        console.print_json(json.dumps(p.model_dump(mode="json")))


# ---------------------------------------------------------------- install


def select_plugin_from_catalog(available_plugins: List[PluginManifest],
                               assume_yes: bool = False) -> Optional[PluginManifest]:
    """Pick one plugin: the first by (name, version) descending with ``assume_yes``, else ask."""
    if not available_plugins:
        return None
    ordered = sorted(available_plugins, key=lambda p: (p.name, p.version), reverse=True)
    if assume_yes:
        chosen = ordered[0]
    else:
        _require_inquirer()
        choices = [
            (f"{i} name: {p.name} version: {p.version} installation type: {_install_kind_of(p)}", i)
            for i, p in enumerate(ordered)
        ]
        answers = inquirer.prompt(
            [inquirer.List("plugins", message="Which plugin would you like to install?", choices=choices)]
        )
        if not answers:
            return None
        chosen = ordered[int(answers["plugins"])]
    console.print("name: ", chosen.name, "Version: ", chosen.version, "type: ", _install_kind_of(chosen))
    return chosen


def _parse_pypi_source(source: str) -> tuple[str, Optional[str]]:
    """``name@constraint`` -> (name, constraint or None)."""
    name, _, constraint = source.partition("@")
    return name, constraint or None


def _plugin_name_from_source(source: str, install_type: str | None) -> str:
    """The plugin name in an install source: ``pkg@>=1`` (pypi), ``pkg @ git+url`` (git) or a bare name."""
    if install_type in {"pypi", "test-pypi"}:
        return _parse_pypi_source(source)[0].strip()
    if " @ " in source:
        return source.split(" @ ", 1)[0].strip()
    return source.strip()


def _should_skip_reinstall(source: str, install_type: str | None, catalog: PluginCatalog) -> bool:
    """True when the plugin is installed and the catalog's version equals the installed one.

    An explicit pypi version constraint, or a target version the catalog does not know,
    always proceeds with the install.
    """
    name = _plugin_name_from_source(source, install_type)
    installed = PluginRegistry().get(name)
    if installed is None:
        return False
    if install_type in {"pypi", "test-pypi"} and _parse_pypi_source(source)[1] is not None:
        return False
    target = catalog.find(name)
    if target is None:
        logger.info("Could not resolve target version for %s; proceeding with install.", name)
        return False
    if target.version == installed.version:
        console.print(f"Plugin {name} is already installed at version {installed.version}.")
        return True
    console.print(f"Plugin {name} is installed at {installed.version}; installing version {target.version}.")
    return False


def _finalize_installation(manifest: PluginManifest, install_type: str, catalog: PluginCatalog,
                           plugin_path: Path | None = None) -> None:
    """Record the install and add the plugin to the plugins config file."""
    PluginRegistry().update(manifest=manifest, installation_type=install_type, catalog=catalog,
                            git_user_name=git_user_name(), plugin_path=plugin_path,
                            editable=install_type == "local")
    update_plugins_config_yaml(manifest=manifest)


def install_from_manifest(manifest: PluginManifest, installation_type: str, catalog: PluginCatalog) -> None:
    """Install a catalog (monorepo) plugin, record it and add it to the config file."""
    if installation_type != "monorepo":
        return
    plugin_path = catalog.install_folder_via_pip(manifest)
    found = catalog._find_and_load_versions_json(manifest, plugin_path, manifest.name)
    PluginRegistry().update(manifest=manifest, installation_type=installation_type, catalog=catalog,
                            git_user_name=git_user_name(), plugin_path=found if found is not None else plugin_path)
    update_plugins_config_yaml(manifest)


def _install_from_local(source: str, catalog: PluginCatalog, use_test: bool = False, convert: bool = True) -> None:
    with console.status(f"Installing plugin from source {source}...", spinner="dots"):
        manifest, path = catalog.install_from_local(Path(source), convert=convert)
        _finalize_installation(manifest, "local", catalog, path)
    console.print(f":white_heavy_check_mark: {manifest.name} installation complete.")


def _integrity_note(what: str) -> None:
    enabled = get_catalog_settings().VERIFY_PACKAGE_INTEGRITY
    console.log(f"Package integrity verification: {'enabled' + what if enabled else 'disabled'}")


def _install_from_git(source: str, catalog: PluginCatalog, use_test: bool = False, convert: bool = True) -> None:
    verify = get_catalog_settings().VERIFY_PACKAGE_INTEGRITY
    _integrity_note(" (hash will be computed and logged)")
    with console.status(f"Installing plugin from source {source}...", spinner="dots"):
        manifest, path = catalog.install_from_git(source, verify_integrity=verify, convert=convert)
        _finalize_installation(manifest, "git", catalog, path)
    console.print(f":white_heavy_check_mark: {manifest.name} installation complete.")


def _install_from_pypi(source: str, catalog: PluginCatalog, use_test: bool = False, convert: bool = True) -> None:
    package, constraint = _parse_pypi_source(source)
    verify = get_catalog_settings().VERIFY_PACKAGE_INTEGRITY
    _integrity_note("")
    with console.status(f"Installing plugin {package} via pypi", spinner="dots"):
        manifest, path = catalog.install_from_pypi(plugin_package_name=package, version_constraint=constraint,
                                                   use_pytest=use_test, verify_integrity=verify, convert=convert)
    if manifest is None:
        console.print(f":x: Failed to install {package}")
        return
    _finalize_installation(manifest, "pypi", catalog, path)
    console.print(f":white_heavy_check_mark: {package} installation complete.")


def _install_from_monorepo(source: str, catalog: PluginCatalog, use_test: bool = False, assume_yes: bool = False,
                           convert: bool = True) -> None:
    if not convert:
        # Catalog manifests were normalised when the catalog was updated: nothing left to keep.
        console.print(":warning: --no-convert is ignored for monorepo installs: the catalog manifest is already "
                      "normalized during catalog update, so a bare-FQN 'kind' has been converted to isolated_venv. "
                      "Use --type git, pypi, test-pypi, or local to keep the declared kind.")
    found = catalog.search(source)
    if not found:
        console.print("No matching plugins found.")
        return
    chosen = select_plugin_from_catalog(found, assume_yes=assume_yes)
    if not chosen:
        return
    with console.status(f"Installing plugin {chosen.name}...", spinner="dots"):
        install_from_manifest(chosen, "monorepo", catalog=catalog)
    console.print(f":white_heavy_check_mark: {chosen.name} installation complete.")


def install(source: str, install_type: str | None, catalog: PluginCatalog, assume_yes: bool = False,
            convert: bool = True) -> None:
    """Install ``source`` through its channel (default monorepo); exits 2 on an unknown type, 4 on failure."""
    install_type = install_type or "monorepo"
    handlers = {"git": _install_from_git, "pypi": _install_from_pypi, "test-pypi": _install_from_pypi,
                "local": _install_from_local}
    if install_type != "monorepo" and install_type not in handlers:
        console.print(f":x: Unsupported installation type: {install_type}. Must be one of: {', '.join(handlers)}")
        raise typer.Exit(EXIT_INVALID_ARGS)
    try:
        if install_type == "monorepo":
            _install_from_monorepo(source, catalog, assume_yes=assume_yes, convert=convert)
        else:
            handlers[install_type](source, catalog, use_test=install_type == "test-pypi", convert=convert)
    except typer.Exit:
        raise
    except Exception as exc:
        console.print(f":x: Installation failed: {escape(str(exc))}")
        logger.error("Install error: %s", exc, exc_info=True)
        raise typer.Exit(EXIT_OPERATION_FAILED) from exc


def uninstall(plugin_name: str, catalog: PluginCatalog, assume_yes: bool = False) -> None:
    """Remove an installed plugin: its config entries, its package and its record (exit 3 when not installed)."""
    registry = PluginRegistry()
    installed = next((p for p in registry.registry.plugins if p.name == plugin_name), None)
    if installed is None:
        console.print(f":x: Plugin '{plugin_name}' is not installed.")
        raise typer.Exit(EXIT_NOT_FOUND)
    console.print(f"Found plugin: {installed.name} (version {installed.version})")
    console.print(f"Installation type: {installed.installation_type}")
    console.print(f"Installation path: {installed.installation_path}")
    if not assume_yes:
        _require_inquirer()
        answers = inquirer.prompt([inquirer.Confirm("confirm", default=False,
                                                    message=f"Are you sure you want to uninstall '{plugin_name}'?")])
        if not answers or not answers["confirm"]:
            console.print("Uninstall cancelled.")
            return
    try:
        with console.status(f"Uninstalling plugin {plugin_name}...", spinner="dots"):
            # A fresh catalog, as upstream: it reads the manifests the install just wrote.
            catalog = PluginCatalog()
            manifest = catalog.find(plugin_name)
            if manifest is None:
                console.print(f":x: Plugin {plugin_name} not found in catalog.")
                raise typer.Exit(EXIT_NOT_FOUND)
            remove_from_plugins_config_yaml(manifest)
            catalog.uninstall_package(plugin_name, manifest)
            registry.remove(plugin_name)
        console.print(f":white_heavy_check_mark: {plugin_name} uninstalled successfully.")
    except typer.Exit:
        raise
    except Exception as exc:
        console.print(f":x: Failed to uninstall {plugin_name}: {escape(str(exc))}")
        logger.error("Uninstall error: %s", exc, exc_info=True)
        raise typer.Exit(EXIT_OPERATION_FAILED) from exc


@app.command(
    help="List, search, install or uninstall plugins.\n\n"
    "Exit Codes:\n  0 - Success\n  1 - General error\n  2 - Invalid arguments\n  3 - Plugin not found\n"
    "  4 - Operation failed\n\n"
    "Default install type is monorepo\n\n"
    "Examples:\n"
    "cpex plugin info pii\n"
    "cpex plugin search pii\n"
    "cpex plugin --type monorepo install cpex-pii-filter\n"
    'cpex plugin --type pypi install "ExamplePlugin@>=0.1.0"\n'
    'cpex plugin --type git install "my-plugin @ git+https://github.com/org/my-plugin@main"\n'
    "cpex plugin --type local install ./my_plugin\n"
    "cpex plugin versions my-plugin\n"
    "cpex plugin uninstall my-plugin\n"
)
def plugin(
    cmd_action: str = typer.Argument(None, help="One of: list|info|install|search|versions|uninstall"),
    source: Optional[str] = typer.Argument(None, help="The pypi, git, or local folder where the plugin resides"),
    install_type: Annotated[
        Optional[str],
        typer.Option("--type", "-t", help="One of: monorepo|pypi|test-pypi|git|local. Defaults to monorepo."),
    ] = None,
    assume_yes: Annotated[
        bool, typer.Option("--yes", "-y", help="No prompts: pick the first match on install, no confirm on uninstall.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format of read commands: 'text' or 'json'.")] = "text",
    no_convert: Annotated[
        bool,
        typer.Option("--no-convert", help="On install, keep a bare Python class path 'kind' in-process instead of "
                     "converting it to an isolated_venv plugin; an unknown 'kind' only warns. Applies to "
                     "pypi/test-pypi/git/local."),
    ] = False,
) -> None:
    """Dispatch ``cpex plugin <action>``."""
    if cmd_action not in PLUGIN_ACTIONS:
        console.print(f":x: Unknown action {cmd_action!r}: expected one of {', '.join(PLUGIN_ACTIONS)}.")
        raise typer.Exit(EXIT_INVALID_ARGS)
    if fmt not in OUTPUT_FORMATS:
        console.print(f":x: Unknown format {fmt!r}: expected text or json.")
        raise typer.Exit(EXIT_INVALID_ARGS)
    if install_type is not None and install_type not in INSTALL_TYPES:
        console.print(f":x: Unsupported installation type: {install_type}. Must be one of: {', '.join(INSTALL_TYPES)}")
        raise typer.Exit(EXIT_INVALID_ARGS)
    if cmd_action == "info":
        return info(source, fmt=fmt)
    if cmd_action in ("uninstall", "install") and source is None:
        console.print(f":x: Please specify a plugin {'name' if cmd_action == 'uninstall' else 'source'} to {cmd_action}.")
        raise typer.Exit(EXIT_INVALID_ARGS)
    catalog = PluginCatalog()
    if cmd_action == "uninstall":
        assert source is not None  # refused above
        return uninstall(source, catalog=catalog, assume_yes=assume_yes)
    if install_type not in {"test-pypi", "pypi", "local"}:
        # Refresh the catalog from the monorepos first (upstream does so for list too).
        quiet = fmt == "json"  # JSON output stays parseable: no progress lines around it
        if not quiet:
            console.log("Update catalog")
        with console.status("Updating catalog...", spinner="dots"):
            failed = catalog.update_catalog_with_pyproject()
        if not quiet:
            console.log(":x: Catalog update failed." if failed else "Catalog update completed.")
    if cmd_action == "install":
        assert source is not None  # refused above
        if _should_skip_reinstall(source, install_type, catalog):
            return
        return install(source, install_type, catalog=catalog, assume_yes=assume_yes, convert=not no_convert)
    if cmd_action == "versions":
        return versions(source, catalog=catalog, fmt=fmt)
    if cmd_action == "list":
        return list_registered_plugins(install_type, fmt=fmt)
    return search(source, catalog=catalog, fmt=fmt)


def _print_version(value: bool) -> None:
    """``--version``: the package's release and the Go core's (reading the latter starts the core)."""
    if not value:
        return
    import cpex
    from cpex import _core

    info = _core.version()
    typer.echo(f"cpex {cpex.__version__} (core {info['core']}, {info['go']})")
    raise typer.Exit()


@app.callback()
def callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the cpex and Go core versions and exit."),
    ] = False,
) -> None:
    """Keeps ``bootstrap`` and ``plugin`` as subcommands (a single-command Typer app would flatten them)."""


def main() -> None:
    """Entry point of the ``cpex`` and ``mcpplugins`` console scripts.

    ``PLUGINS_CLI_COMPLETION`` enables shell completion; ``PLUGINS_CLI_MARKUP_MODE``
    (rich, markdown, disabled) sets how help text is rendered.
    """
    app()


if __name__ == "__main__":
    main()
