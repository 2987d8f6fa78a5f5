"""`cpex plugin list|info|search|versions|install|uninstall`, from the behaviour a user sees.

Installs run real pip in a scratch interpreter against local sources only: project folders,
a wheel directory, a file:// simple index, a git daemon and a fake GitHub API on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

import cpex.tools.cli as cli
from conftest import build_wheel, git_repo_from, make_plugin_project, scratch_has, sha256_of
from cpex.framework.models import InstalledPluginInfo, InstalledPluginRegistry, PluginManifest
from cpex.tools import catalog as catalog_mod
from cpex.tools import integrity
from cpex.tools.plugin_registry import PluginRegistry
from test_tools_catalog import _write_manifest, fake_github


def config_entries(env: Any) -> list[dict[str, Any]]:
    return yaml.safe_load(env.config_file.read_text()).get("plugins") or []


def record(name: str, kind: str = "pkg.mod.Cls", version: str = "1.0.0", itype: str = "pypi") -> InstalledPluginInfo:
    return InstalledPluginInfo(name=name, kind=kind, version=version, installation_type=itype,
                               installation_path="/srv/x", installed_at="2026-01-01T00:00:00Z", installed_by="t",
                               package_source=name)


# ------------------------------------------------------------------ argument checking


@pytest.mark.parametrize("args", [
    ["plugin", "frobnicate"], ["plugin"], ["plugin", "list", "--format", "yaml"],
    ["plugin", "search", "x", "--type", "svn"], ["plugin", "install"], ["plugin", "uninstall"],
])
def test_bad_arguments_exit_2(cli_env, run_cli: Callable[..., Any], args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert ":x:" in result.output or "❌" in result.output


def test_plugin_help_documents_exit_codes_and_options(run_cli: Callable[..., Any]) -> None:
    out = run_cli("plugin", "--help").output
    for text in ("0 - Success", "2 - Invalid arguments", "3 - Plugin not found", "4 - Operation failed",
                 "--type", "-t", "--yes", "-y", "--format", "-f", "--no-convert"):
        assert text in out


# ------------------------------------------------------------------ list / info


def test_list_and_info(cli_env, run_cli: Callable[..., Any]) -> None:
    r = run_cli("plugin", "list")
    assert r.exit_code == 0 and "No plugins registered" in r.output
    assert json.loads(run_cli("plugin", "list", "--format", "json").output) == {"plugins": []}
    reg = InstalledPluginRegistry()
    reg.register_plugin(record("pii-filter", kind="pii.plugin.PIIFilter", version="1.2.0"))
    reg.register_plugin(record("rate-limit", kind="native", itype="local"))
    text = run_cli("plugin", "list").output
    assert "name: pii-filter version: 1.2.0 installation type: pypi" in text
    assert "name: rate-limit version: 1.0.0 installation type: local" in text
    listed = json.loads(run_cli("plugin", "list", "-f", "json").output)
    assert listed["plugins"][0] == {"name": "pii-filter", "version": "1.2.0", "installation_type": "pypi"}

    one = json.loads(run_cli("plugin", "info", "PII", "-f", "json").output)
    assert [p["name"] for p in one["plugins"]] == ["pii-filter"]
    assert one["plugins"][0]["installation_path"] == "/srv/x"
    by_kind = json.loads(run_cli("plugin", "info", "native", "--format", "json").output)
    assert [p["name"] for p in by_kind["plugins"]] == ["rate-limit"]
    assert len(json.loads(run_cli("plugin", "info", "--format", "json").output)["plugins"]) == 2
    assert '"name": "pii-filter"' in run_cli("plugin", "info", "pii").output
    assert "No plugins found" in run_cli("plugin", "info", "nothing").output


def test_corrupted_registry_is_set_aside(cli_env, run_cli: Callable[..., Any]) -> None:
    cli_env.registry_file.parent.mkdir(parents=True)
    cli_env.registry_file.write_text("{not json")
    r = run_cli("plugin", "list", "-f", "json")
    assert r.exit_code == 0 and json.loads(r.output) == {"plugins": []}
    assert cli_env.registry_file.with_suffix(".json.corrupted").read_text() == "{not json"


# ------------------------------------------------------------------ search / versions


def test_search_and_versions(cli_env, run_cli: Callable[..., Any]) -> None:
    _write_manifest(cli_env.catalog, "pii-filter", "1.0.0", package_info={"pypi_package": "pii-filter"})
    _write_manifest(cli_env.catalog, "pii-filter", "1.1.0", package_info={"pypi_package": "pii-filter"})
    _write_manifest(cli_env.catalog, "rate-limit", "0.3.0",
                    monorepo={"repo_url": "https://g/o/m", "package_source": "https://g/o/m#subdirectory=r",
                              "package_folder": "r"})
    found = json.loads(run_cli("plugin", "search", "pii", "--type", "pypi", "--format", "json").output)
    assert sorted((p["name"], p["version"], p["installation_type"]) for p in found["results"]) == [
        ("pii-filter", "1.0.0", "pypi"), ("pii-filter", "1.1.0", "pypi")]
    vers = json.loads(run_cli("plugin", "versions", "pii-filter", "-t", "pypi", "-f", "json").output)
    assert sorted(p["version"] for p in vers["results"]) == ["1.0.0", "1.1.0"]
    every = json.loads(run_cli("plugin", "search", "-t", "local", "-f", "json").output)["results"]
    assert {"name": "rate-limit", "version": "0.3.0", "installation_type": "monorepo"} in every
    text = run_cli("plugin", "search", "rate", "-t", "pypi").output
    assert "name: rate-limit version: 0.3.0 installation type: monorepo" in text
    assert "No plugins found" in run_cli("plugin", "search", "zzz", "-t", "pypi").output
    assert json.loads(run_cli("plugin", "search", "zzz", "-t", "pypi", "-f", "json").output) == {"results": []}
    # The default (monorepo) type refreshes the catalog first; without a token that fails softly.
    r = run_cli("plugin", "search", "pii")
    assert r.exit_code == 0 and "Catalog update failed" in r.output and "pii-filter" in r.output
    # ... and with --format json only the document is printed, so it stays parseable.
    assert len(json.loads(run_cli("plugin", "search", "pii", "-f", "json").output)["results"]) == 2


# ------------------------------------------------------------------ uninstall


def test_uninstall_not_installed_exits_3(cli_env, run_cli: Callable[..., Any]) -> None:
    r = run_cli("plugin", "uninstall", "ghost", "--yes")
    assert r.exit_code == 3 and "'ghost' is not installed" in r.output


def test_uninstall_unknown_to_catalog_exits_3(cli_env, run_cli: Callable[..., Any]) -> None:
    InstalledPluginRegistry().register_plugin(record("orphan"))
    r = run_cli("plugin", "uninstall", "orphan", "-y")
    assert r.exit_code == 3 and "not found in catalog" in r.output
    assert PluginRegistry().has("orphan")  # nothing removed


def test_uninstall_can_be_declined(cli_env, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    InstalledPluginRegistry().register_plugin(record("kept"))
    asked: list[Any] = []
    monkeypatch.setattr(cli.inquirer, "prompt", lambda questions: asked.append(questions) or {"confirm": False})
    r = run_cli("plugin", "uninstall", "kept")
    assert r.exit_code == 0 and "Uninstall cancelled" in r.output and asked
    assert PluginRegistry().has("kept")


def test_prompts_without_inquirer_name_the_extra(cli_env, run_cli: Callable[..., Any],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    InstalledPluginRegistry().register_plugin(record("kept"))
    monkeypatch.setattr(cli, "inquirer", None)
    r = run_cli("plugin", "uninstall", "kept")
    assert r.exit_code == 1 and "cpex[cli]" in r.output and "--yes" in r.output


# ------------------------------------------------------------------ config.yaml editing


def test_config_entries_get_unique_names_and_are_removed_by_kind(cli_env) -> None:
    m = PluginManifest(name="Demo Plugin", kind="demo.plugin.Demo", description="d", author="a", version="1",
                       tags=["t"], available_hooks=["tool_pre_invoke"], default_config={"level": 2})
    cli.update_plugins_config_yaml(m)
    cli.update_plugins_config_yaml(m)
    cli.update_plugins_config_yaml(m)
    entries = config_entries(cli_env)
    assert [e["name"] for e in entries] == ["demo-plugin", "demo-plugin_1", "demo-plugin_2"]
    assert entries[0]["mode"] == "sequential" and entries[0]["priority"] == 100
    assert entries[0]["config"] == {"level": 2} and entries[0]["hooks"] == ["tool_pre_invoke"]
    assert yaml.safe_load(cli_env.config_file.read_text())["plugin_dirs"] == [str(cli_env.plugins)]
    other = m.model_copy(update={"name": "demo-plugin", "kind": "other.Kind"})
    assert cli.remove_from_plugins_config_yaml(other) is False
    assert cli.remove_from_plugins_config_yaml(m.model_copy(update={"name": "demo-plugin"})) is True
    assert config_entries(cli_env) == []


def test_should_skip_reinstall(cli_env, monkeypatch: pytest.MonkeyPatch) -> None:
    InstalledPluginRegistry().register_plugin(record("demo", version="1.0.0"))
    _write_manifest(cli_env.catalog, "demo", "1.0.0")
    catalog = catalog_mod.PluginCatalog()
    assert cli._should_skip_reinstall("demo", "pypi", catalog) is True
    assert cli._should_skip_reinstall("demo@==1.0.0", "pypi", catalog) is False  # explicit constraint
    assert cli._should_skip_reinstall("demo @ git+https://h/o/demo", "git", catalog) is True
    assert cli._should_skip_reinstall("other", None, catalog) is False
    assert cli._plugin_name_from_source(" demo@>=1 ", "test-pypi") == "demo"
    assert cli._parse_pypi_source("demo@>=1,<2") == ("demo", ">=1,<2")
    assert cli._parse_pypi_source("demo") == ("demo", None)


# ------------------------------------------------------------------ installs (pip, offline)


def test_local_install_then_uninstall(cli_env, pip_env: Path, scratch_python: str, tmp_path: Path,
                                      run_cli: Callable[..., Any]) -> None:
    project = make_plugin_project(tmp_path / "src", "local-demo", versions_json=True)
    r = run_cli("plugin", "--type", "local", "install", str(project), "--no-convert")
    assert r.exit_code == 0, r.output
    assert "local-demo installation complete" in r.output
    assert scratch_has(scratch_python, "local-demo")
    rec = PluginRegistry().get("local-demo")
    assert rec is not None and rec.installation_type == "local" and rec.editable is True
    assert rec.package_source == str(project.resolve())
    assert rec.kind == "local_demo.plugin.DemoPlugin"
    assert Path(rec.installation_path) == (project / "local_demo").resolve()
    entry = config_entries(cli_env)[0]
    assert entry["name"] == "local-demo" and entry["kind"] == "local_demo.plugin.DemoPlugin"
    assert json.loads((cli_env.catalog / "local-demo" / "versions.json").read_text())["versions"][0]["version"] == "1.0.0"

    # A local source is a path, not a plugin name: installing it again reinstalls (as upstream).
    again = run_cli("plugin", "-t", "local", "install", str(project), "--no-convert")
    assert again.exit_code == 0 and "local-demo installation complete" in again.output
    assert [p.name for p in PluginRegistry().registry.plugins] == ["local-demo"]

    gone = run_cli("plugin", "uninstall", "local-demo", "--yes")
    assert gone.exit_code == 0, gone.output
    assert "local-demo uninstalled successfully" in gone.output
    assert not scratch_has(scratch_python, "local-demo")
    assert PluginRegistry().get("local-demo") is None and config_entries(cli_env) == []


async def test_class_path_kind_installs_into_an_isolated_venv_and_runs(
        cli_env, pip_env: Path, scratch_python: str, tmp_path: Path, run_cli: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Without --no-convert a class-path kind becomes isolated_venv: the package goes into the
    # plugin's own venv (built by the core, as at runtime), never into the CLI's environment.
    from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload
    from cpex.framework.loader import plugin as loader_plugin
    from isolated_venvs import shim_wheel

    project = make_plugin_project(tmp_path / "src", "iso-demo")
    manifest_file = project / "iso_demo" / "plugin-manifest.yaml"
    manifest = json.loads(manifest_file.read_text())
    manifest["default_config"]["requirements_file"] = "requirements.txt"
    manifest_file.write_text(json.dumps(manifest))
    # The venv's cpex: this checkout, through a local wheel (offline).
    (project / "iso_demo" / "requirements.txt").write_text(f"{shim_wheel(tmp_path)}\n")
    r = run_cli("plugin", "-t", "local", "install", str(project))
    assert r.exit_code == 0, r.output
    assert "iso-demo installation complete" in r.output
    assert not scratch_has(scratch_python, "iso-demo"), "not in the CLI's environment"
    root = cli_env.plugins / "iso_demo"
    assert (root / ".venv" / "bin" / "python").exists()
    assert (root / ".cpex" / "venv_cache" / ".venv_metadata.json").exists()
    assert (root / "iso_demo-plugin-DemoPlugin.plugin-manifest.yaml").exists()
    entry = config_entries(cli_env)[0]
    assert entry["kind"] == "isolated_venv" and entry["config"]["class_name"] == "iso_demo.plugin.DemoPlugin"

    # ... and the installed entry runs, through the cached venv.
    monkeypatch.setattr(loader_plugin, "ALLOWED_PLUGIN_DIRS", {str(cli_env.root)})
    manager = TenantPluginManager(str(cli_env.config_file), timeout=60)
    await manager.initialize()
    try:
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}),
                                              GlobalContext(request_id="r"))
        assert result.continue_processing and result.metadata == {"iso_demo": "1.0.0"}
    finally:
        await manager.shutdown()

    gone = run_cli("plugin", "uninstall", "iso-demo", "--yes")
    assert gone.exit_code == 0, gone.output
    assert not (root / ".venv").exists() and not (root / ".cpex").exists()


def test_unknown_kind_fails_unless_no_convert(cli_env, pip_env: Path, scratch_python: str, tmp_path: Path,
                                              run_cli: Callable[..., Any]) -> None:
    project = make_plugin_project(tmp_path / "src", "typo-demo", kind="isolate_venv")
    r = run_cli("plugin", "-t", "local", "install", str(project))
    assert r.exit_code == 4 and "Unsupported plugin 'kind'" in " ".join(r.output.split())
    assert not scratch_has(scratch_python, "typo-demo")
    r = run_cli("plugin", "-t", "local", "install", str(project), "--no-convert")
    assert r.exit_code == 0, r.output
    assert PluginRegistry().get("typo-demo").kind == "isolate_venv"


def test_local_install_of_a_folder_without_project_fails(cli_env, pip_env: Path, tmp_path: Path,
                                                         run_cli: Callable[..., Any]) -> None:
    (tmp_path / "empty").mkdir()
    r = run_cli("plugin", "-t", "local", "install", str(tmp_path / "empty"))
    assert r.exit_code == 4 and "pyproject.toml not found" in " ".join(r.output.split())


def _serve_hashes(json_server: Any, monkeypatch: pytest.MonkeyPatch, wheel: Path, dist: str, digest: str) -> None:
    monkeypatch.setattr(integrity, "PYPI_JSON_API_URL", json_server.url + "/pypi/{package}/json")
    monkeypatch.setattr(integrity, "TEST_PYPI_JSON_API_URL", json_server.url + "/test/{package}/json")
    body = {"urls": [{"filename": wheel.name, "digests": {"sha256": digest}, "url": "file://" + str(wheel)}]}
    for prefix in ("/pypi", "/test"):
        json_server.routes[f"{prefix}/{dist}/json"] = (200, body)
        json_server.routes[f"{prefix}/{dist}/1.0.0/json"] = (200, body)


def test_pypi_install_verifies_the_published_hash(cli_env, pip_env: Path, scratch_python: str, tmp_path: Path,
                                                  json_server: Any, monkeypatch: pytest.MonkeyPatch,
                                                  run_cli: Callable[..., Any]) -> None:
    wheel = build_wheel(make_plugin_project(tmp_path / "src", "pypi-demo"), pip_env)
    _serve_hashes(json_server, monkeypatch, wheel, "pypi-demo", sha256_of(wheel))
    monkeypatch.setenv("PLUGINS_VERIFY_PACKAGE_INTEGRITY", "true")
    r = run_cli("plugin", "--type", "pypi", "install", "pypi-demo@==1.0.0", "--no-convert")
    assert r.exit_code == 0, r.output
    assert "integrity verification: enabled" in r.output.lower()
    assert "/pypi/pypi-demo/1.0.0/json" in json_server.requests
    assert scratch_has(scratch_python, "pypi-demo")
    rec = PluginRegistry().get("pypi-demo")
    assert rec.installation_type == "pypi" and rec.package_source == "pypi-demo" and rec.editable is False
    saved = yaml.safe_load((cli_env.catalog / "pypi-demo" / "plugin-manifest.yaml").read_text())
    assert saved["package_info"] == {"pypi_package": "pypi-demo", "version_constraint": "==1.0.0"}
    assert config_entries(cli_env)[0]["kind"] == "pypi_demo.plugin.DemoPlugin"


def test_pypi_install_with_a_wrong_hash_installs_nothing(cli_env, pip_env: Path, scratch_python: str,
                                                         tmp_path: Path, json_server: Any,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         run_cli: Callable[..., Any]) -> None:
    wheel = build_wheel(make_plugin_project(tmp_path / "src", "tampered-demo"), pip_env)
    _serve_hashes(json_server, monkeypatch, wheel, "tampered-demo", "0" * 64)
    monkeypatch.setenv("PLUGINS_VERIFY_PACKAGE_INTEGRITY", "true")
    r = run_cli("plugin", "-t", "pypi", "install", "tampered-demo", "--no-convert")
    assert r.exit_code == 4
    assert "Integrity verification failed for tampered-demo" in " ".join(r.output.split())
    assert not scratch_has(scratch_python, "tampered-demo")
    assert PluginRegistry().registry.plugins == [] and config_entries(cli_env) == []


def test_strict_integrity_refuses_a_package_without_published_hashes(cli_env, pip_env: Path, scratch_python: str,
                                                                     tmp_path: Path, json_server: Any,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     run_cli: Callable[..., Any]) -> None:
    build_wheel(make_plugin_project(tmp_path / "src", "unhashed-demo"), pip_env)
    monkeypatch.setattr(integrity, "PYPI_JSON_API_URL", json_server.url + "/pypi/{package}/json")  # answers 404
    monkeypatch.setenv("PLUGINS_VERIFY_PACKAGE_INTEGRITY", "true")
    monkeypatch.setenv("PLUGINS_STRICT_INTEGRITY_MODE", "true")
    r = run_cli("plugin", "-t", "pypi", "install", "unhashed-demo", "--no-convert")
    assert r.exit_code == 4 and "PLUGINS_STRICT_INTEGRITY_MODE" in " ".join(r.output.split())
    assert not scratch_has(scratch_python, "unhashed-demo")
    monkeypatch.setenv("PLUGINS_STRICT_INTEGRITY_MODE", "false")  # permissive: warn and go on
    assert run_cli("plugin", "-t", "pypi", "install", "unhashed-demo", "--no-convert").exit_code == 0
    assert scratch_has(scratch_python, "unhashed-demo")


def test_test_pypi_install_uses_its_own_index(cli_env, pip_env: Path, scratch_python: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Any]) -> None:
    wheel = build_wheel(make_plugin_project(tmp_path / "src", "testpypi-demo"), tmp_path / "built")
    simple = tmp_path / "simple" / "testpypi-demo"
    simple.mkdir(parents=True)
    shutil.copy(wheel, simple / wheel.name)
    (simple / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>')
    (simple.parent / "index.html").write_text('<html><body><a href="testpypi-demo/">testpypi-demo</a></body></html>')
    monkeypatch.setattr(catalog_mod, "TEST_PYPI_SIMPLE_INDEX_URL", (simple.parent).as_uri() + "/")
    monkeypatch.delenv("PIP_NO_INDEX")  # the package is only on the "test" index, not in the wheel directory
    r = run_cli("plugin", "-t", "test-pypi", "install", "testpypi-demo", "--no-convert")
    assert r.exit_code == 0, r.output
    assert scratch_has(scratch_python, "testpypi-demo")
    assert PluginRegistry().get("testpypi-demo").installation_type == "pypi"


def test_git_install_at_a_ref(cli_env, pip_env: Path, scratch_python: str, tmp_path: Path, git_daemon: Any,
                              run_cli: Callable[..., Any]) -> None:
    base, url = git_daemon
    make_plugin_project(base / "org", "git-demo")
    git_repo_from(base / "org" / "git-demo", branch="release")
    source = f"git-demo @ git+{url}/org/git-demo@release"
    r = run_cli("plugin", "--type", "git", "install", source, "--no-convert")
    assert r.exit_code == 0, r.output
    assert scratch_has(scratch_python, "git-demo")
    rec = PluginRegistry().get("git-demo")
    assert rec.installation_type == "git" and rec.package_source == f"git-demo @ {url}/org/git-demo@release"
    saved = yaml.safe_load((cli_env.catalog / "git-demo" / "plugin-manifest.yaml").read_text())
    assert saved["git_repo"] == {"git_repository": f"{url}/org/git-demo", "git_branch_tag_commit": "release"}


def test_git_install_with_a_bad_source_fails(cli_env, pip_env: Path, run_cli: Callable[..., Any]) -> None:
    r = run_cli("plugin", "-t", "git", "install", "https://example.invalid/x.git")
    assert r.exit_code == 4 and "Expected format" in " ".join(r.output.split())


def _monorepo(base: Path, url: str, json_server: Any, monkeypatch: pytest.MonkeyPatch, kind: str,
              dist: str) -> None:
    # Each test uses its own distribution name: the scratch interpreter is shared by the session.
    mono = base / "org" / "mono"
    project = make_plugin_project(mono / "plugins", dist, kind=kind, versions_json=True)
    git_repo_from(mono)
    files = {str(p.relative_to(mono)): p.read_text() for p in project.rglob("*")
             if p.is_file() and p.suffix in (".toml", ".yaml", ".json")}
    fake_github(json_server, "org/mono", files)
    monkeypatch.setenv("PLUGINS_GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("PLUGINS_GITHUB_API", json_server.url)
    monkeypatch.setenv("PLUGINS_REPO_URLS", f"{url}/org/mono")


def test_monorepo_install_from_the_catalog(cli_env, pip_env: Path, scratch_python: str, git_daemon: Any,
                                           json_server: Any, monkeypatch: pytest.MonkeyPatch,
                                           run_cli: Callable[..., Any]) -> None:
    base, url = git_daemon
    _monorepo(base, url, json_server, monkeypatch, kind="native", dist="mono-demo")
    assert "No matching plugins found" in run_cli("plugin", "install", "zzz", "--yes").output
    r = run_cli("plugin", "install", "mono", "--yes", "--no-convert")
    assert r.exit_code == 0, r.output
    assert "--no-convert is ignored for monorepo installs" in " ".join(r.output.split())
    assert "Catalog update completed" in r.output and "mono-demo installation complete" in r.output
    assert scratch_has(scratch_python, "mono-demo")
    rec = PluginRegistry().get("mono-demo")
    assert rec.installation_type == "monorepo"
    assert rec.package_source == f"{url}/org/mono#subdirectory=plugins/mono-demo"
    assert config_entries(cli_env)[0]["kind"] == "native"


def test_monorepo_install_asks_which_plugin(cli_env, pip_env: Path, scratch_python: str, git_daemon: Any,
                                            json_server: Any, monkeypatch: pytest.MonkeyPatch,
                                            run_cli: Callable[..., Any]) -> None:
    base, url = git_daemon
    _monorepo(base, url, json_server, monkeypatch, kind="native", dist="ask-demo")
    monkeypatch.setattr(cli.inquirer, "prompt", lambda questions: None)  # the user cancels
    r = run_cli("plugin", "install", "ask")
    assert r.exit_code == 0 and not scratch_has(scratch_python, "ask-demo")
    monkeypatch.setattr(cli.inquirer, "prompt", lambda questions: {"plugins": 0})
    assert run_cli("plugin", "install", "ask").exit_code == 0
    assert scratch_has(scratch_python, "ask-demo")


def test_monorepo_class_path_plugin_installs_into_its_venv(cli_env, pip_env: Path, scratch_python: str,
                                                            git_daemon: Any, json_server: Any,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            run_cli: Callable[..., Any]) -> None:
    base, url = git_daemon
    _monorepo(base, url, json_server, monkeypatch, kind="fqn_demo.plugin.DemoPlugin", dist="fqn-demo")
    r = run_cli("plugin", "install", "fqn-demo", "-y")
    assert r.exit_code == 0, r.output
    assert not scratch_has(scratch_python, "fqn-demo"), "installed in the plugin's venv, not the CLI's environment"
    venv_python = cli_env.plugins / "fqn_demo" / ".venv" / "bin" / "python"
    assert scratch_has(str(venv_python), "fqn-demo")
    assert PluginRegistry().get("fqn-demo") is not None
    assert config_entries(cli_env)[0]["kind"] == "isolated_venv"
