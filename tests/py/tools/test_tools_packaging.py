"""How cpex.tools is packaged: optional dependencies, console scripts, shipped templates."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import REPO_PYTHON

REPO = Path(REPO_PYTHON).parent
CLI_DEPS = ("typer", "cookiecutter", "github", "httpx2", "inquirer", "rich")


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": REPO_PYTHON}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_framework_import_pulls_in_no_cli_dependency() -> None:
    out = run_python(
        "import sys, cpex, cpex.framework, cpex.framework.models, cpex.framework.manager\n"
        f"print(sorted(m for m in {CLI_DEPS!r} if m in sys.modules))\n"
        "print('cpex.tools' in sys.modules)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "False"]


def test_missing_cli_extra_names_the_extra() -> None:
    # sys.modules[name] = None makes `import name` fail as if the package were absent.
    out = run_python(
        "import sys\nsys.modules['typer'] = None\n"
        "try:\n    import cpex.tools.cli\nexcept ImportError as e:\n    print('ERR', e)\n"
    )
    assert "ERR" in out.stdout, out.stderr
    assert "pip install 'cpex[cli]'" in out.stdout
    assert "typer" in out.stdout


def test_bootstrap_without_cookiecutter_names_the_extra() -> None:
    out = run_python(
        "import sys\nsys.modules['cookiecutter'] = None\nsys.modules['cookiecutter.main'] = None\n"
        "from typer.testing import CliRunner\nfrom cpex.tools.cli import app\n"
        "r = CliRunner().invoke(app, ['bootstrap', '-d', 'x', '--no_input'])\nprint('RC', r.exit_code)\nprint(r.output)"
    )
    assert "RC 1" in out.stdout, out.stderr
    assert "cpex[cli]" in out.stdout


def test_catalog_and_registry_import_without_github_or_httpx2() -> None:
    out = run_python(
        "import sys\nsys.modules['github'] = None\nsys.modules['httpx2'] = None\nsys.modules['inquirer'] = None\n"
        "import cpex.tools.cli, cpex.tools.catalog as c\n"
        "try:\n    c.PluginCatalog()._require_github()\nexcept ImportError as e:\n    print('ERR', e)\n"
    )
    assert "ERR PyGithub" in out.stdout, out.stderr
    assert "cpex[cli]" in out.stdout


def test_console_scripts_and_cli_extra_are_declared() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["cpex"] == "cpex.tools.cli:main"
    assert project["scripts"]["mcpplugins"] == "cpex.tools.cli:main"
    extra = " ".join(project["optional-dependencies"]["cli"])
    for dist in ("typer", "cookiecutter", "pygithub", "httpx2", "inquirer"):
        assert dist in extra
        assert dist not in " ".join(project["dependencies"])


def _matches(rel: str, pattern: str) -> bool:
    # setuptools' package-data globs: '**' spans folders, '*' does not (fnmatch is close enough
    # once '**/' is allowed to match nothing).
    return fnmatch(rel, pattern) or ("**/" in pattern and fnmatch(rel, pattern.replace("**/", "")))


def test_every_template_file_is_package_data_and_in_the_sdist() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["cpex"]
    root = Path(REPO_PYTHON) / "cpex"
    files = [p.relative_to(root).as_posix() for p in (root / "templates").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert {f.split("/")[1] for f in files} == {"native", "external", "isolated", "go"}
    assert any(f.endswith("/.env.template") for f in files)  # dot-files count too
    missing = [f for f in files if not any(_matches(f, g) for g in globs)]
    assert missing == []
    assert "graft python/cpex/templates" in (REPO / "MANIFEST.in").read_text(encoding="utf-8").splitlines()


def test_templates_are_found_next_to_the_tools_package() -> None:
    from importlib.resources import files

    from cpex.tools.cli import LOCAL_TEMPLATES_DIR

    shipped = files("cpex") / "templates"
    assert Path(str(shipped)) == LOCAL_TEMPLATES_DIR
    for kind in ("native", "external", "isolated", "go"):
        assert (LOCAL_TEMPLATES_DIR / kind / "cookiecutter.json").is_file()


def test_python_m_cli_help_lists_both_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "cpex.tools.cli", "--help"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": REPO_PYTHON}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "bootstrap" in out.stdout and "plugin" in out.stdout


def test_main_runs_the_app(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import cpex.tools.cli as cli

    monkeypatch.setattr(sys, "argv", ["mcpplugins", "--help"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 0
    assert "bootstrap" in capsys.readouterr().out


def test_gateway_mounts_the_app_as_a_sub_command() -> None:
    import typer
    from typer.testing import CliRunner

    import cpex.tools.cli as plugins

    gateway = typer.Typer()
    gateway.add_typer(plugins.app, name="plugin")

    @gateway.command()
    def serve() -> None:  # the gateway's own commands sit next to ours
        pass

    result = CliRunner().invoke(gateway, ["plugin", "bootstrap", "--help"])
    assert result.exit_code == 0
    assert "--dry_run" in result.output


def test_install_manifest_model() -> None:
    from pydantic import ValidationError

    from cpex.tools.models import InstallManifest

    m = InstallManifest(packages=[{"package": "p", "repository": "https://x/y", "extras": ["a"]},
                                  {"package": "q", "repository": "r"}])
    assert m.packages[0].extras == ["a"] and m.packages[1].extras is None
    with pytest.raises(ValidationError):
        InstallManifest(packages=[{"package": "p"}])


def test_catalog_settings_defaults_and_registry_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from cpex.tools.settings import get_catalog_settings, get_plugin_registry_path

    for var in ("PLUGINS_FOLDER", "PLUGINS_CATALOG_FOLDER", "PLUGINS_REPO_URLS", "PLUGINS_GITHUB_API",
                "PLUGIN_REGISTRY_FILE", "PLUGINS_VERIFY_PACKAGE_INTEGRITY", "PLUGINS_STRICT_INTEGRITY_MODE"):
        monkeypatch.delenv(var, raising=False)
    s = get_catalog_settings()
    assert (s.FOLDER, s.CATALOG_FOLDER, s.REGISTRY_FOLDER) == ("plugins", "plugin-catalog", "data")
    assert s.GITHUB_API == "api.github.com" and s.REPO_URLS == "https://github.com/ibm/cpex-plugins"
    assert s.VERIFY_PACKAGE_INTEGRITY is True and s.STRICT_INTEGRITY_MODE is False
    assert get_plugin_registry_path() == Path("data") / "installed-plugins.json"
    monkeypatch.setenv("PLUGIN_REGISTRY_FILE", "/srv/reg")
    monkeypatch.setenv("PLUGINS_FOLDER", "/srv/plugins")
    assert get_plugin_registry_path() == Path("/srv/reg/installed-plugins.json")
    assert get_catalog_settings().FOLDER == "/srv/plugins"


def test_version_option_names_package_and_core_versions() -> None:
    from typer.testing import CliRunner

    import cpex
    from cpex import _core
    from cpex.tools.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    info = _core.version()
    assert result.output.strip() == f"cpex {cpex.__version__} (core {info['core']}, {info['go']})"
