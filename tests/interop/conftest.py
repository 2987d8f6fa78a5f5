"""Interop fixtures: upstream cpex from PyPI in throwaway virtualenvs, and its MCP server.

Each upstream version gets its own virtualenv, `.venv-interop-<version>` at the top of
the repository (gitignored), created on first use and reused while its stamp is there.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

# What each upstream version is installed with (0.1.4 needs the Python MCP SDK 2.x; 0.1.3
# brings the 1.x it was released with).
UPSTREAM = {
    "0.1.4": ["cpex==0.1.4", "mcp>=2"],
    # upstream's gRPC and Unix-socket runtimes and clients need grpcio and protobuf
    "0.1.4-grpc": ["cpex==0.1.4", "mcp>=2", "grpcio", "protobuf"],
    "0.1.3": ["cpex==0.1.3"],
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "interop: runs upstream cpex from PyPI (make test-interop)")


@pytest.fixture(autouse=True)
def _fresh_manager() -> Iterator[None]:
    from cpex.framework.manager import PluginManager
    from cpex.framework.settings import settings

    PluginManager.reset()
    settings.cache_clear()
    yield
    PluginManager.reset()
    settings.cache_clear()


def upstream_python(version: str) -> Path:
    """The interpreter of the virtualenv holding upstream cpex ``version`` (made if missing)."""
    root = REPO / f".venv-interop-{version}"
    py = root / "bin" / "python"
    stamp = root / ".ready"
    if not stamp.exists():
        venv.create(root, with_pip=True, clear=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *UPSTREAM[version]], check=True)
        stamp.write_text(" ".join(UPSTREAM[version]))
    return py


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment upstream's runtime needs: its config, our test plugin on the path
    and nothing of ours (PYTHONPATH would otherwise put our cpex first)."""
    env = {
        "PYTHONPATH": str(DATA),
        "PLUGINS_CONFIG_PATH": str(DATA / "server.yaml"),
        "PLUGINS_LOG_LEVEL": "WARNING",
    }
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HTTPServer:
    """A plugin server runtime over streamable HTTP on a free local port, or on a Unix
    socket: upstream's, or ours when ``pythonpath`` puts our package on the path."""

    def __init__(self, python: Path, uds: Path | None = None, pythonpath: str | None = None) -> None:
        self.port = free_port()
        self.uds = uds
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        extra = {"PLUGINS_TRANSPORT": "http", "PLUGINS_SERVER_HOST": "127.0.0.1", "PLUGINS_SERVER_PORT": str(self.port)}
        if uds is not None:
            extra["PLUGINS_SERVER_UDS"] = str(uds)
        if pythonpath is not None:
            extra["PYTHONPATH"] = pythonpath
        env.update(server_env(extra))
        self.proc = subprocess.Popen([str(python), "-m", "cpex.framework.external.mcp.server.runtime"],
                                     env=env, stdin=subprocess.DEVNULL, stderr=sys.stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"upstream server exited with {self.proc.returncode}")
            try:
                if uds is not None:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(str(uds))
                else:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("upstream server did not listen within 60 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_listening(proc: subprocess.Popen[bytes], *, port: int | None = None, path: Path | None = None,
                   what: str = "server") -> None:
    """Wait (60 s at most) until proc accepts connections on 127.0.0.1:port or on path."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if path is not None:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(path))
            else:
                socket.create_connection(("127.0.0.1", port or 0), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"{what} did not listen within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def short_socket_path(name: str) -> Path:
    """A socket path well under the 107-byte limit."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="cpex-")) / name


@pytest.fixture(scope="session")
def go_plugin_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our Go server (cmd/cpex-plugin-server), built once per session."""
    out = tmp_path_factory.mktemp("bin") / "cpex-plugin-server"
    subprocess.run(["go", "build", "-o", str(out), "./cmd/cpex-plugin-server"], cwd=REPO, check=True)
    return out
