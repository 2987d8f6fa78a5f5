"""PluginLoader and ALLOWED_PLUGIN_DIRS (spec §9)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from cpex.framework.base import Plugin
from cpex.framework.errors import PluginError
from cpex.framework.loader import plugin as loader_module
from cpex.framework.loader.plugin import ALLOWED_PLUGIN_DIRS, PluginLoader
from cpex.framework.models import PluginConfig

MODULE = __name__  # this file is importable by its module name (tests/py is on sys.path)


class LoadablePlugin(Plugin):
    initialized = 0

    async def initialize(self) -> None:
        type(self).initialized += 1

    async def tool_pre_invoke(self, payload: Any, context: Any) -> Any:
        return None


def cfg(kind: str, **fields: Any) -> PluginConfig:
    return PluginConfig(name="loaded", kind=kind, hooks=["tool_pre_invoke"], **fields)


# --- ALLOWED_PLUGIN_DIRS / append_to_search_path ----------------------------------------------


def test_allowed_plugin_dirs_contents() -> None:
    assert os.path.abspath("/var/lib/cpex/plugins") in ALLOWED_PLUGIN_DIRS
    assert os.path.abspath("/private/var/lib/cpex/plugins") in ALLOWED_PLUGIN_DIRS
    assert os.getcwd() in ALLOWED_PLUGIN_DIRS  # pytest runs from the import-time cwd


def test_allowed_directory_is_added_to_plugin_dirs_and_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader_module, "ALLOWED_PLUGIN_DIRS", {str(tmp_path.resolve())})
    monkeypatch.setattr(sys, "path", list(sys.path))
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    loader = PluginLoader()
    loader.append_to_search_path([str(plugins), str(plugins)])
    assert loader.plugin_dirs == [str(plugins), str(plugins)]
    assert sys.path.count(str(plugins.resolve())) == 1


def test_disallowed_directory_is_silently_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "ALLOWED_PLUGIN_DIRS", {"/var/lib/cpex/plugins"})
    monkeypatch.setattr(sys, "path", list(sys.path))
    loader = PluginLoader()
    loader.append_to_search_path([str(tmp_path)])
    assert loader.plugin_dirs == []
    assert str(tmp_path.resolve()) not in sys.path


def test_relative_directory_resolves_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fixtures").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(loader_module, "ALLOWED_PLUGIN_DIRS", {str(tmp_path.resolve())})
    monkeypatch.setattr(sys, "path", list(sys.path))
    loader = PluginLoader()
    loader.append_to_search_path(["fixtures"])
    assert loader.plugin_dirs == ["fixtures"]
    assert str((tmp_path / "fixtures").resolve()) in sys.path


def test_allowed_check_is_a_string_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Upstream compares with str.startswith, so a sibling sharing the prefix is accepted.
    monkeypatch.setattr(loader_module, "ALLOWED_PLUGIN_DIRS", {str(tmp_path.resolve() / "plug")})
    monkeypatch.setattr(sys, "path", list(sys.path))
    loader = PluginLoader()
    loader.append_to_search_path([str(tmp_path / "plugins-extra")])
    assert loader.plugin_dirs == [str(tmp_path / "plugins-extra")]


# --- load_and_instantiate_plugin -------------------------------------------------------------


async def test_loads_dotted_class_path_with_a_config_copy() -> None:
    loader = PluginLoader()
    config = cfg(f"{MODULE}.LoadablePlugin")
    before = LoadablePlugin.initialized
    plugin = await loader.load_and_instantiate_plugin(config)
    assert isinstance(plugin, LoadablePlugin)
    assert plugin.config == config and plugin.config is not config
    assert LoadablePlugin.initialized == before + 1
    assert loader._plugin_types[config.kind] is LoadablePlugin


async def test_plugin_class_is_cached_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = PluginLoader()
    kind = f"{MODULE}.LoadablePlugin"
    await loader.load_and_instantiate_plugin(cfg(kind))

    def fail(_: Any) -> Any:
        raise AssertionError("import must not run again")

    monkeypatch.setattr(loader_module, "import_module", fail)
    assert isinstance(await loader.load_and_instantiate_plugin(cfg(kind)), LoadablePlugin)
    assert hasattr(loader, "_PluginLoader__register_plugin_type")


async def test_falsy_cached_type_returns_none() -> None:
    loader = PluginLoader()
    loader._plugin_types["cached.Nothing"] = None  # type: ignore[assignment]
    assert await loader.load_and_instantiate_plugin(cfg("cached.Nothing")) is None


async def test_import_failures_are_logged_and_reraised(caplog: pytest.LogCaptureFixture) -> None:
    loader = PluginLoader()
    with pytest.raises(ImportError):
        await loader.load_and_instantiate_plugin(cfg("no_such_module_for_cpex_tests.Plugin"))
    with pytest.raises(AttributeError):
        await loader.load_and_instantiate_plugin(cfg(f"{MODULE}.Missing"))
    assert "no_such_module_for_cpex_tests.Plugin" in caplog.text
    assert loader._plugin_types == {}


async def test_external_without_transport_fails_at_load() -> None:
    # PluginConfig refuses it; one built without validation still gets a clear error
    config = PluginConfig.model_construct(name="loaded", kind="external", mcp=None, grpc=None, unix_socket=None)
    with pytest.raises(PluginError) as info:
        await PluginLoader().load_and_instantiate_plugin(config)
    assert "kind 'external' needs an 'mcp', 'grpc' or 'unix_socket' section" in str(info.value)
    assert info.value.error.plugin_name == "loaded"


async def test_isolated_venv_kind_goes_to_the_isolated_host() -> None:
    seen: list[PluginConfig] = []

    class IsolatedAwareLoader(PluginLoader):
        async def _load_isolated_plugin(self, config: PluginConfig) -> Plugin:
            seen.append(config)
            return LoadablePlugin(config)

    config = cfg("isolated_venv", config={"class_name": "pkg.mod.Plugin"})
    plugin = await IsolatedAwareLoader().load_and_instantiate_plugin(config)
    assert isinstance(plugin, LoadablePlugin)
    assert seen == [config] and seen[0] is not config


@pytest.mark.parametrize(
    "transport",
    [
        {"mcp": {"proto": "STREAMABLEHTTP", "url": "https://plugins.example.com/mcp"}},
        {"grpc": {"target": "plugins.example.com:50051"}},
        {"unix_socket": {"path": "/run/plugins.sock"}},
    ],
    ids=["mcp", "grpc", "unix_socket"],
)
async def test_external_kinds_go_to_the_core_client(transport: dict[str, Any]) -> None:
    seen: list[PluginConfig] = []

    class ExternalAwareLoader(PluginLoader):
        async def _load_external_plugin(self, config: PluginConfig) -> Plugin:
            seen.append(config)
            return LoadablePlugin(config)

    config = cfg("external", **transport)
    plugin = await ExternalAwareLoader().load_and_instantiate_plugin(config)
    assert isinstance(plugin, LoadablePlugin)
    assert seen == [config] and seen[0] is not config


async def test_builtin_kinds_go_to_the_go_plugin_hook() -> None:
    seen: list[PluginConfig] = []

    class GoAwareLoader(PluginLoader):
        def _load_go_plugin(self, config: PluginConfig) -> Plugin:
            seen.append(config)
            return LoadablePlugin(config)

    config = cfg("builtin/regex_filter")
    before = LoadablePlugin.initialized
    plugin = await GoAwareLoader().load_and_instantiate_plugin(config)
    assert isinstance(plugin, LoadablePlugin) and LoadablePlugin.initialized == before + 1
    assert seen == [config] and seen[0] is not config


async def test_shutdown_clears_the_type_cache() -> None:
    loader = PluginLoader()
    await loader.load_and_instantiate_plugin(cfg(f"{MODULE}.LoadablePlugin"))
    await loader.shutdown()
    assert loader._plugin_types == {}


async def test_a_cached_kind_is_not_imported_again(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = PluginLoader()
    # a kind cached under a name no module has: registering it again must not import it
    loader._plugin_types["nowhere.Cached"] = LoadablePlugin
    imported: list[str] = []
    monkeypatch.setattr(loader_module, "import_module", lambda name: imported.append(name))
    loader._PluginLoader__register_plugin_type("nowhere.Cached")
    assert imported == [] and loader._plugin_types["nowhere.Cached"] is LoadablePlugin


async def test_the_class_lookup_is_its_own_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = PluginLoader()
    seen: list[str] = []

    def lookup(kind: str) -> Any:
        seen.append(kind)
        return None  # a lookup that finds no class: the loader instantiates nothing

    monkeypatch.setattr(loader, "_PluginLoader__get_plugin_type", lookup)
    config = PluginConfig(name="p", kind="some.Kind", hooks=["tool_pre_invoke"])
    assert await loader.load_and_instantiate_plugin(config) is None
    assert seen == ["some.Kind"]
    # the real lookup imports the module and logs the failure before re-raising it
    with pytest.raises(ModuleNotFoundError):
        PluginLoader()._PluginLoader__get_plugin_type("cpex_no_such_module.Plugin")
    assert PluginLoader()._PluginLoader__get_plugin_type(f"{MODULE}.LoadablePlugin") is LoadablePlugin


async def test_transport_classes_require_their_section() -> None:
    from cpex.framework.external.grpc.client import GrpcExternalPlugin
    from cpex.framework.external.unix.client import UnixSocketExternalPlugin

    with pytest.raises(PluginError, match="The unix_socket section must be defined"):
        UnixSocketExternalPlugin(cfg("external", grpc={"target": "h:1"}))
    plugin = GrpcExternalPlugin(cfg("external", unix_socket={"path": "/run/p.sock"}))
    with pytest.raises(PluginError, match="The grpc section must be defined"):
        await plugin.initialize()
