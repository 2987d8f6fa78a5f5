"""Our gRPC and Unix-socket plugin server runtimes (Python plugins, Go transport) as
their own processes, driven by our own client (kind: external). tests/interop drives
them with upstream 0.1.4's clients (make test-interop); pybind/protoserver_test.go tests
the Go queue under them."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cpex.framework import GlobalContext, PluginError, TenantPluginManager, ToolPostInvokePayload, ToolPreInvokePayload
from cpex.framework.external.grpc.server import GrpcHealthServicer, GrpcPluginServicer
from cpex.framework.external.grpc.server.runtime import GrpcPluginRuntime, log_level, parse_args
from cpex.framework.external.unix.server import UnixSocketPluginServer
from cpex.framework.settings import settings

DATA = Path(__file__).parent / "external"
CONFIG = DATA / "served.yaml"
PYTHON = Path(__file__).resolve().parents[2] / "python"


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGINS_")}
    env.update(PYTHONPATH=f"{DATA}{os.pathsep}{PYTHON}", PLUGINS_CONFIG_PATH=str(CONFIG), PLUGINS_LOG_LEVEL="WARNING")
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Runtime:
    """One of our runtimes as its own process: grpc (TCP), grpc-uds or unix."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.port = free_port()
        self.path: Path | None = None
        extra: dict[str, str] = {}
        if transport == "unix":
            self.path = Path(tempfile.mkdtemp(prefix="cpex-")) / "u.sock"
            extra["PLUGINS_UNIX_SOCKET_PATH"] = str(self.path)
            cmd = ["-m", "cpex.framework.external.unix.server.runtime"]
        else:
            cmd = ["-m", "cpex.framework.external.grpc.server.runtime", "--host", "127.0.0.1", "--port", str(self.port)]
            if transport == "grpc-uds":
                self.path = Path(tempfile.mkdtemp(prefix="cpex-")) / "g.sock"
                extra["PLUGINS_GRPC_SERVER_UDS"] = str(self.path)
        self.proc = subprocess.Popen([sys.executable, *cmd], env=server_env(**extra), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"runtime exited with {self.proc.returncode}"
            try:
                if self.path is not None:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(str(self.path))
                else:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the runtime did not listen within 60 s")

    def entry(self) -> dict[str, Any]:
        e: dict[str, Any] = {"name": "ServedGuard", "kind": "external", "priority": 2}
        if self.transport == "grpc":
            e["grpc"] = {"target": f"127.0.0.1:{self.port}"}
        elif self.transport == "grpc-uds":
            e["grpc"] = {"uds": str(self.path)}
        else:  # the Unix-socket client fetches no config: the entry lists the hooks
            e.update(unix_socket={"path": str(self.path), "timeout": 10}, hooks=["tool_pre_invoke", "tool_post_invoke"])
        return e

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture(params=["grpc", "grpc-uds", "unix"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    rt = Runtime(request.param)
    try:
        yield rt
    finally:
        assert rt.stop() == 0, "SIGTERM ends the runtime cleanly"
        if rt.path is not None:
            assert not rt.path.exists(), "the socket file goes with the server"


@pytest.fixture
async def manager(runtime: Runtime, tmp_path: Path) -> AsyncIterator[TenantPluginManager]:
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump({"plugins": [runtime.entry()]}))
    m = TenantPluginManager(str(path), timeout=10)
    await m.initialize()
    yield m
    await m.shutdown()


async def pre(m: TenantPluginManager, name: str, **kw: Any) -> Any:
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=name, args={"x": "y"}),
                                    GlobalContext(request_id="req-" + name), **kw)
    return result


async def test_our_client_against_our_runtime(runtime: Runtime, manager: TenantPluginManager) -> None:
    plugin = manager.get_plugin("ServedGuard")
    assert plugin is not None and plugin.config.hooks == ["tool_pre_invoke", "tool_post_invoke"]
    if runtime.transport != "unix":
        assert plugin.config.description == "served by our runtime", "the remote config is merged under the entry"
    assert plugin.config.priority == 2, "the local entry wins"

    allowed = await pre(manager, "allow")
    assert allowed.continue_processing and allowed.violation is None
    assert allowed.metadata["config"] == {"level": "strict"} and allowed.metadata["request_id"] == "req-allow"

    blocked = await pre(manager, "block")
    assert not blocked.continue_processing
    assert blocked.violation is not None and blocked.violation.code == "SERVED_BLOCK"
    assert blocked.violation.details == {"tool": "block"} and blocked.violation.plugin_name == "ServedGuard"

    metrics = await pre(manager, "deny_metrics")
    assert not metrics.continue_processing and metrics.violation.code == "SERVED_METRICS"

    modified = await pre(manager, "modify")
    assert modified.modified_payload is not None and modified.modified_payload.args == {"x": "changed by server"}

    with pytest.raises(PluginError) as info:
        await pre(manager, "error")
    assert "served guard failed on purpose" in str(info.value)
    assert info.value.error.plugin_name == "ServedGuard"

    # the served plugin's timeout (plugin_settings.plugin_timeout: 2) holds; the server keeps serving
    with pytest.raises(PluginError) as info:
        await pre(manager, "hang")
    assert info.value.error.plugin_name == "ServedGuard"
    assert (await pre(manager, "allow")).continue_processing

    post, _ = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="allow", result={}),
                                        GlobalContext(request_id="r-post"))
    assert post.continue_processing


async def test_a_client_that_gives_up_mid_call_leaves_the_server_serving(runtime: Runtime, tmp_path: Path) -> None:
    entry = runtime.entry()
    if "unix_socket" in entry:
        entry["unix_socket"]["timeout"] = 0.5
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry], "plugin_settings": {"plugin_timeout": 0.5}}))
    m = TenantPluginManager(str(path), timeout=0.5)
    await m.initialize()
    try:
        with pytest.raises(PluginError):
            await pre(m, "hang")  # the client gives up after 0.5 s; the server's call is abandoned
    finally:
        await m.shutdown()
    path.write_text(yaml.safe_dump({"plugins": [runtime.entry()]}))
    m = TenantPluginManager(str(path), timeout=10)
    await m.initialize()
    try:
        assert (await pre(m, "allow")).continue_processing
    finally:
        await m.shutdown()


def test_unix_runtime_refuses_an_oversized_frame_and_keeps_serving(tmp_path: Path) -> None:
    rt = Runtime("unix")
    try:
        assert rt.path is not None
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(rt.path))
            s.sendall(struct.pack(">I", 16 * 1024 * 1024 + 1))
            s.settimeout(10)
            assert s.recv(4) == b"", "the server closes a connection announcing a frame over 16 MiB"
        with socket.socket(socket.AF_UNIX) as s:  # an empty GetPluginConfigs-shaped request still gets an answer
            s.connect(str(rt.path))
            s.sendall(struct.pack(">I", 0))
            s.settimeout(10)
            assert len(s.recv(4)) == 4
    finally:
        assert rt.stop() == 0


def test_grpc_runtime_arguments_and_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse_args(["--config", "c.yaml", "--host", "0.0.0.0", "--port", "6000", "--log-level", "DEBUG"])
    assert (args.config, args.host, args.port, args.log_level) == ("c.yaml", "0.0.0.0", 6000, "DEBUG")
    with pytest.raises(SystemExit):
        parse_args(["--log-level", "LOUD"])
    monkeypatch.delenv("PLUGINS_LOG_LEVEL", raising=False)
    assert log_level("DEBUG") == "DEBUG"
    monkeypatch.setenv("PLUGINS_LOG_LEVEL", "ERROR")
    assert log_level("DEBUG") == "ERROR", "the setting wins, as upstream"

    for key in ("PLUGINS_GRPC_SERVER_HOST", "PLUGINS_GRPC_SERVER_PORT", "PLUGINS_GRPC_SERVER_UDS"):
        monkeypatch.delenv(key, raising=False)
    settings.cache_clear()
    assert GrpcPluginRuntime().server_config().get_bind_address() == "127.0.0.1:50051"
    assert GrpcPluginRuntime(host="0.0.0.0", port=6000).server_config().get_bind_address() == "0.0.0.0:6000"
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_PORT", "6001")
    settings.cache_clear()
    assert GrpcPluginRuntime().server_config().port == 6001
    sock = str(tmp_path / "g.sock")
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_UDS", sock)
    settings.cache_clear()
    assert GrpcPluginRuntime(port=6000).server_config().get_bind_address() == f"unix://{sock}", "a UDS wins"


def test_grpc_runtime_that_cannot_bind_exits_non_zero() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "cpex.framework.external.grpc.server.runtime", "--host", "127.0.0.1",
                               "--port", str(port)], env=server_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "address already in use" in done.stderr


async def test_servicers_at_upstreams_path() -> None:
    if str(DATA) not in sys.path:
        sys.path.insert(0, str(DATA))
    from cpex.framework import ExternalPluginServer

    server = ExternalPluginServer(str(CONFIG))
    assert await server.initialize()
    try:
        svc = GrpcPluginServicer(server)
        assert [c["name"] for c in await svc.get_plugin_configs()] == ["ServedGuard"]
        assert (await svc.get_plugin_config("servedguard") or {})["name"] == "ServedGuard"
        reply = await svc.invoke_hook("tool_pre_invoke", "ServedGuard", {"name": "block", "args": {}},
                                       {"global_context": {"request_id": "r"}})
        assert reply["result"]["violation"]["code"] == "SERVED_BLOCK"
        assert await GrpcHealthServicer(server).check() == "SERVING"
    finally:
        await server.shutdown()
    assert UnixSocketPluginServer("c.yaml", "/tmp/x.sock").socket_path == "/tmp/x.sock"
    import cpex.framework.external.grpc as grpc_package

    assert grpc_package.GrpcPluginServicer is GrpcPluginServicer, "exported where upstream exports it too"


@pytest.mark.skipif(not any(os.access(os.path.join(p, "openssl"), os.X_OK)
                            for p in os.environ.get("PATH", "").split(os.pathsep)), reason="needs the openssl CLI")
@pytest.mark.parametrize("client_auth", ["require", "optional", "none"])
async def test_grpc_runtime_tls_and_client_auth(client_auth: str, tmp_path: Path) -> None:
    from test_mcp_server import make_pki

    make_pki(tmp_path)
    port = free_port()
    env = server_env(PLUGINS_GRPC_SERVER_SSL_ENABLED="true", PLUGINS_GRPC_SERVER_SSL_CERTFILE=str(tmp_path / "server.pem"),
                     PLUGINS_GRPC_SERVER_SSL_KEYFILE=str(tmp_path / "server.key"),
                     PLUGINS_GRPC_SERVER_SSL_CA_CERTS=str(tmp_path / "ca.pem"),
                     PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH=client_auth)
    proc = subprocess.Popen([sys.executable, "-m", "cpex.framework.external.grpc.server.runtime", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"runtime exited with {proc.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "not listening within 60 s"
                time.sleep(0.05)

        async def call(tls: dict[str, Any]) -> Any:
            path = tmp_path / "client.yaml"
            path.write_text(yaml.safe_dump({"plugins": [{"name": "ServedGuard", "kind": "external",
                                                         "grpc": {"target": f"127.0.0.1:{port}", "tls": tls}}]}))
            m = TenantPluginManager(str(path), timeout=10)
            await m.initialize()
            try:
                return await pre(m, "block")
            finally:
                await m.shutdown()

        mtls = {"ca_bundle": str(tmp_path / "ca.pem"), "certfile": str(tmp_path / "client.pem"),
                "keyfile": str(tmp_path / "client.key")}
        assert (await call(mtls)).violation.code == "SERVED_BLOCK"
        server_only = {"ca_bundle": str(tmp_path / "ca.pem")}
        if client_auth == "require":
            with pytest.raises(Exception, match="ServedGuard"):  # refused at load, naming the plugin
                await call(server_only)
        else:
            assert (await call(server_only)).violation.code == "SERVED_BLOCK"
    finally:
        proc.terminate()
        assert proc.wait(15) == 0
