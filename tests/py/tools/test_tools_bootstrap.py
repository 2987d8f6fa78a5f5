"""`cpex bootstrap`: every option, and each shipped template generated and run end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from conftest import REPO_PYTHON, git_repo_from

REPO = Path(REPO_PYTHON).parent


def py_env(*extra: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([REPO_PYTHON, *map(str, extra)])}


def test_help_lists_every_option(run_cli: Callable[..., Any]) -> None:
    out = run_cli("bootstrap", "--help").output
    for option in ("--destination", "-d", "--template_url", "-u", "--template_type", "-t", "--vcs_ref", "-r",
                   "--no_input", "--dry_run"):
        assert option in out


def test_dry_run_writes_nothing(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    dest = tmp_path / "dry"
    result = run_cli("bootstrap", "-d", str(dest), "-t", "native", "--no_input", "--dry_run")
    assert result.exit_code == 0
    assert "Dry run" in result.output and "native" in result.output
    assert not dest.exists()


def test_unknown_template_type_is_invalid_argument(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("bootstrap", "-d", str(tmp_path / "x"), "-t", "wasm", "--no_input")
    assert result.exit_code == 2
    assert "wasm" in result.output and "native" in result.output and "go" in result.output
    assert not (tmp_path / "x").exists()


def test_existing_destination_fails_with_operation_failed(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert run_cli("bootstrap", "-d", str(tmp_path / "twice"), "--no_input").exit_code == 0
    second = run_cli("bootstrap", "-d", str(tmp_path / "twice"), "--no_input")
    assert second.exit_code == 4
    assert "Failed to create plugin project" in second.output


def test_default_destination_is_the_current_folder_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         run_cli: Callable[..., Any]) -> None:
    import cookiecutter.main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(cookiecutter.main, "cookiecutter", lambda **kw: seen.update(kw))
    work = tmp_path / "here"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_cli("bootstrap", "--no_input").exit_code == 0
    assert seen["output_dir"] == "." and seen["no_input"] is True
    assert set(seen["extra_context"]) == {"plugin_slug", "author", "email"}


def test_author_comes_from_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      run_cli: Callable[..., Any]) -> None:
    import cpex.tools.cli as cli

    monkeypatch.setattr(cli, "git_user_name", lambda: "Ada Lovelace")
    monkeypatch.setattr(cli, "git_user_email", lambda: "ada@example.com")
    assert run_cli("bootstrap", "-d", str(tmp_path / "ada_plugin"), "--no_input").exit_code == 0
    manifest = yaml.safe_load((tmp_path / "ada_plugin" / "plugin-manifest.yaml").read_text())
    assert manifest["author"] == "Ada Lovelace"
    assert "ada@example.com" not in manifest.values()


def test_prompts_without_no_input(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    # Without --no_input cookiecutter asks; the answers (name, version...) reach the files.
    answers = "Rate Guard\n\n2.0.0\n\n\nLimits things\n"
    result = run_cli("bootstrap", "-d", str(tmp_path / "rate_guard"), input=answers)
    assert result.exit_code == 0, result.output
    cfg = yaml.safe_load((tmp_path / "rate_guard" / "config.yaml").read_text())
    entry = cfg["plugins"][0]
    assert entry["name"] == "Rate Guard" and entry["version"] == "2.0.0"
    assert entry["kind"] == "rate_guard.plugin.RateGuard"


def test_template_from_a_git_url_at_a_ref(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    # A repository laid out like cpex's own (cpex/templates/<type>), where the ref differs from main.
    repo = tmp_path / "tmpl-repo"
    shutil.copytree(REPO_PYTHON + "/cpex/templates/native", repo / "cpex" / "templates" / "native")
    git_repo_from(repo)
    marker = repo / "cpex" / "templates" / "native" / "{{cookiecutter.plugin_slug}}" / "FROM_BRANCH.txt"
    subprocess.run(["git", "checkout", "-q", "-b", "v2"], cwd=repo, check=True)
    marker.write_text("v2\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "v2"], cwd=repo, check=True)

    out = tmp_path / "out"
    out.mkdir()
    r = run_cli("bootstrap", "-u", f"file://{repo}", "-r", "v2", "-t", "native", "-d", str(out / "remote_one"),
                "--no_input")
    assert r.exit_code == 0, r.output
    assert (out / "remote_one" / "FROM_BRANCH.txt").read_text() == "v2\n"
    r = run_cli("bootstrap", "--template_url", f"file://{repo}", "--vcs_ref", "main", "--template_type", "native",
                "--destination", str(out / "remote_two"), "--no_input")
    assert r.exit_code == 0, r.output
    assert (out / "remote_two" / "plugin.py").exists()
    assert not (out / "remote_two" / "FROM_BRANCH.txt").exists()


def test_remote_template_without_git_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       run_cli: Callable[..., Any]) -> None:
    import cpex.tools.cli as cli

    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.command_exists("git") is False
    r = run_cli("bootstrap", "-u", "https://example.invalid/t.git", "-d", str(tmp_path / "x"), "--no_input")
    assert r.exit_code == 1
    assert "git is required" in r.output


# ------------------------------------------------------------------ end to end, per template

LOAD_AND_INVOKE = textwrap.dedent("""\
    import asyncio, json, sys
    from cpex.framework import GlobalContext, PluginManager, ToolHookType, ToolPreInvokePayload

    async def main(config):
        manager = PluginManager(config)
        await manager.initialize()
        out = {"plugins": manager.plugin_count}
        for tool in ("echo", "rm_rf"):
            result, _ = await manager.invoke_hook(
                ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload(name=tool, args={}), GlobalContext(request_id=tool))
            out[tool] = [result.continue_processing, result.violation.code if result.violation else None,
                         result.metadata]
        await manager.shutdown()
        print(json.dumps(out))

    asyncio.run(main(sys.argv[1]))
""")


def _block_rm_rf(config: Path, key: tuple[str, ...] = ("plugins", 0, "config")) -> None:
    data = yaml.safe_load(config.read_text())
    node: Any = data
    for k in key:
        node = node[k]
    node["blocked_tools"] = ["rm_rf"]
    config.write_text(yaml.safe_dump(data))


def test_native_template_loads_through_the_plugin_manager(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert run_cli("bootstrap", "-t", "native", "--no_input", "-d", str(tmp_path / "my_guard")).exit_code == 0
    project = tmp_path / "my_guard"
    assert sorted(p.name for p in project.iterdir()) == [
        "README.md", "__init__.py", "config.yaml", "plugin-manifest.yaml", "plugin.py"]
    _block_rm_rf(project / "config.yaml")
    (tmp_path / "run.py").write_text(LOAD_AND_INVOKE)
    # Run from the project's parent, as a gateway runs from its root: the slug is the import package.
    out = subprocess.run([sys.executable, "run.py", "my_guard/config.yaml"], cwd=tmp_path, capture_output=True,
                         text=True, env=py_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["plugins"] == 1
    assert res["echo"] == [True, None, {"my_guard": "allowed"}]
    assert res["rm_rf"][:2] == [False, "TOOL_BLOCKED"]
    manifest = yaml.safe_load((project / "plugin-manifest.yaml").read_text())
    from cpex.framework.models import PluginManifest

    assert PluginManifest(**manifest).kind == "my_guard.plugin.MyFilter"


def test_isolated_template_generates_and_its_class_runs_in_process(tmp_path: Path,
                                                                    run_cli: Callable[..., Any]) -> None:
    # Check the generated project and load its class in-process through the manager (kind = the class_name it declares).
    assert run_cli("bootstrap", "-t", "isolated", "--no_input", "-d", str(tmp_path / "iso_guard")).exit_code == 0
    project = tmp_path / "iso_guard"
    assert (project / "requirements.txt").read_text().startswith("# Installed into")
    cfg = yaml.safe_load((project / "config.yaml").read_text())
    entry = cfg["plugins"][0]
    assert entry["kind"] == "isolated_venv"
    assert entry["config"]["class_name"] == "iso_guard.plugin.MyFilter"
    manifest = yaml.safe_load((project / "plugin-manifest.yaml").read_text())
    assert manifest["default_config"]["class_name"] == entry["config"]["class_name"]
    entry["kind"] = entry["config"].pop("class_name")
    entry["config"].pop("requirements_file")
    entry["config"]["blocked_tools"] = ["rm_rf"]
    (project / "inproc.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "run.py").write_text(LOAD_AND_INVOKE)
    out = subprocess.run([sys.executable, "run.py", "iso_guard/inproc.yaml"], cwd=tmp_path, capture_output=True,
                         text=True, env=py_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["echo"][0] is True and res["rm_rf"][:2] == [False, "TOOL_BLOCKED"]


def test_external_template_generates_a_runnable_project(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    # External (MCP-served) plugins are not supported by this cpex yet: check the project, run its
    # own tests, and load its class in-process through the manager from its resources config.
    assert run_cli("bootstrap", "-t", "external", "--no_input", "-d", str(tmp_path / "ext_guard")).exit_code == 0
    project = tmp_path / "ext_guard"
    for rel in ("pyproject.toml", "run-server.sh", "Containerfile", "Makefile", ".env.template", ".dockerignore",
                "resources/plugins/config.yaml", "tests/test_ext_guard.py", "ext_guard/plugin.py",
                "ext_guard/plugin-manifest.yaml"):
        assert (project / rel).is_file(), rel
    assert os.access(project / "run-server.sh", os.X_OK)
    assert "cpex.framework.external.mcp.server.runtime" in (project / "run-server.sh").read_text()
    import tomllib

    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == "ext_guard"
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "tests/pytest.ini",
                            "tests"], cwd=project, capture_output=True, text=True, env=py_env(project), timeout=300)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    _block_rm_rf(project / "resources" / "plugins" / "config.yaml")
    (tmp_path / "run.py").write_text(LOAD_AND_INVOKE)
    out = subprocess.run([sys.executable, str(tmp_path / "run.py"), "resources/plugins/config.yaml"], cwd=project,
                         capture_output=True, text=True, env=py_env(project), timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["echo"][0] is True and res["rm_rf"][:2] == [False, "TOOL_BLOCKED"]


def test_go_template_builds_with_the_core_and_its_test_passes(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not on PATH: the Go template cannot be built")
    assert run_cli("bootstrap", "-t", "go", "--no_input", "-d", str(tmp_path / "go_guard")).exit_code == 0
    project = tmp_path / "go_guard"
    assert {"go.mod", "plugin.go", "plugin_test.go", "config.yaml", "README.md"} <= {p.name for p in project.iterdir()}
    source = (project / "plugin.go").read_text()
    assert 'const Kind = "builtin/go_guard"' in source and "core.RegisterFactory(Kind, New)" in source
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    subprocess.run([go, "mod", "edit", "-replace", f"github.com/cpex-go/cpex={REPO}"], cwd=project, check=True, env=env)
    test = subprocess.run([go, "test", "-count=1", "./..."], cwd=project, capture_output=True, text=True, env=env,
                          timeout=900)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "ok" in test.stdout
    demo = subprocess.run([go, "run", "./cmd/demo"], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.splitlines() == ["echo: allowed", "delete_everything: blocked (TOOL_BLOCKED)"]
    vet = subprocess.run([go, "vet", "./..."], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert vet.returncode == 0, vet.stderr
