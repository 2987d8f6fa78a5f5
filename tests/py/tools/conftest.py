"""Fixtures of the cpex.tools tests: a private working folder, a scratch interpreter for pip,
local package sources (folders, wheel directory, simple index, git daemon) and a JSON server
on 127.0.0.1. Nothing here reaches the network."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import textwrap
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("typer", reason="the cpex[cli] extra is not installed")

REPO_PYTHON = str(Path(__file__).resolve().parents[3] / "python")


@dataclass
class CliEnv:
    root: Path
    registry_file: Path
    catalog: Path
    plugins: Path
    config_file: Path


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliEnv:
    """A fresh working folder with its own registry, catalog, plugins folder and plugins config."""
    from cpex.framework.settings import settings

    monkeypatch.chdir(tmp_path)
    env = CliEnv(
        root=tmp_path,
        registry_file=tmp_path / "data" / "installed-plugins.json",
        catalog=tmp_path / "plugin-catalog",
        plugins=tmp_path / "plugins",
        config_file=tmp_path / "plugins" / "config.yaml",
    )
    env.plugins.mkdir()
    env.config_file.write_text("plugins: []\n", encoding="utf-8")
    monkeypatch.setenv("PLUGIN_REGISTRY_FILE", str(tmp_path / "data"))
    monkeypatch.setenv("PLUGINS_CATALOG_FOLDER", str(env.catalog))
    monkeypatch.setenv("PLUGINS_FOLDER", str(env.plugins))
    monkeypatch.setenv("PLUGINS_CONFIG_FILE", str(env.config_file))
    monkeypatch.delenv("PLUGINS_GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps at the terminal width: keep each message on one line
    monkeypatch.setenv("PYTHONPATH", REPO_PYTHON + os.pathsep + os.environ.get("PYTHONPATH", ""))
    settings.cache_clear()
    return env


@pytest.fixture(scope="session")
def scratch_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An interpreter whose site-packages receive the test installs (the test venv stays clean).

    It sees the test venv's packages (pip, setuptools) through a .pth file, so pip runs
    without build isolation and without an index.
    """
    venv = tmp_path_factory.mktemp("scratch") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(purelib, "_host_site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


@pytest.fixture
def pip_env(cli_env: CliEnv, scratch_python: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Make the catalog run pip in the scratch interpreter, offline; returns the wheel directory."""
    from cpex.tools.catalog import PluginCatalog

    wheels = tmp_path / "wheelhouse"
    wheels.mkdir()
    monkeypatch.setattr(PluginCatalog, "_get_python_executable", lambda self: scratch_python)
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip's inverted spelling: build in this environment
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PLUGINS_VERIFY_PACKAGE_INTEGRITY", "false")
    return wheels


def scratch_has(python: str, dist: str) -> bool:
    """Whether the distribution is installed in the scratch interpreter."""
    out = subprocess.run([python, "-m", "pip", "show", "-q", dist], capture_output=True, text=True,
                         env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return out.returncode == 0


def make_plugin_project(parent: Path, dist: str, *, version: str = "1.0.0", kind: str | None = None,
                        class_name: str = "DemoPlugin", versions_json: bool = False) -> Path:
    """A pip-installable plugin project: package <dist with _>, a Plugin class and its manifest."""
    pkg = dist.replace("-", "_")
    root = parent / dist
    (root / pkg).mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "{version}"

        [tool.setuptools.packages.find]
        include = ["{pkg}*"]

        [tool.setuptools.package-data]
        {pkg} = ["plugin-manifest.yaml", "versions.json"]
        """), encoding="utf-8")
    (root / pkg / "__init__.py").write_text("", encoding="utf-8")
    (root / pkg / "plugin.py").write_text(textwrap.dedent(f"""\
        from cpex.framework import Plugin, ToolPreInvokeResult

        class {class_name}(Plugin):
            async def tool_pre_invoke(self, payload, context):
                return ToolPreInvokeResult(continue_processing=True, metadata={{"{pkg}": "{version}"}})
        """), encoding="utf-8")
    manifest = {
        "name": dist,
        "kind": kind if kind is not None else f"{pkg}.plugin.{class_name}",
        "description": f"{dist} test plugin",
        "author": "tests",
        "version": version,
        "tags": ["demo", "tests"],
        "available_hooks": ["tool_pre_invoke"],
        "default_config": {"level": 1},
    }
    (root / pkg / "plugin-manifest.yaml").write_text(json.dumps(manifest), encoding="utf-8")
    if versions_json:
        (root / pkg / "versions.json").write_text(json.dumps({
            "latest": None,
            "versions": [{"version": version, "released": "2026-01-01T00:00:00Z", "manifest_file": "plugin-manifest.yaml"}],
        }), encoding="utf-8")
    return root


def build_wheel(project: Path, dest: Path) -> Path:
    """Build the project's wheel into dest (offline, with the test venv's setuptools)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dest),
         str(project)],
        check=True, capture_output=True, text=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    dist = project.name.replace("-", "_")
    return next(dest.glob(f"{dist}-*.whl"))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class JSONServer:
    """A tiny HTTP server on 127.0.0.1 answering GETs from a dict of path -> (status, JSON body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {}
        self.requests: list[str] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                requests.append(self.path)
                path = self.path.split("?", 1)[0]
                status, body = routes.get(path, (404, {"message": "Not Found"}))
                if callable(body):
                    body = body(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def json_server() -> Iterator[JSONServer]:
    server = JSONServer()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def git_repo_from(folder: Path, branch: str = "main") -> Path:
    """Turn ``folder`` into a git repository with one commit on ``branch``."""
    git(folder, "init", "-q", "-b", branch)
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "fixture")
    return folder


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """``git daemon`` serving <base>/ read-only on 127.0.0.1; yields (base folder, git:// URL prefix)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    base = tmp_path / "git-served"
    base.mkdir()
    port = _free_port()
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={base}", "--listen=127.0.0.1",
         f"--port={port}", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # readiness: the port accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield base, f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def run_cli() -> Callable[..., Any]:
    """Invoke the Typer app in-process; returns click's Result (exit_code, output)."""
    from typer.testing import CliRunner

    from cpex.tools.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke
