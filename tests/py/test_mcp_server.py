"""Our external plugin server (ExternalPluginServer and its runtime) with a Python plugin,
driven by our own client (kind: external). tests/interop drives it with upstream's
clients (make test-interop); core/external/mcpserver tests the Go server alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import cpex.framework.external.mcp.server.runtime as runtime_module
from cpex.framework import (
    ExternalPluginServer,
    GlobalContext,
    PluginContext,
    PluginError,
    TenantPluginManager,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from cpex.framework.external.mcp.server.runtime import choose_transport

DATA = Path(__file__).parent / "external"
CONFIG = DATA / "served.yaml"
PYTHON = Path(__file__).resolve().parents[2] / "python"


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=f"{DATA}{os.pathsep}{PYTHON}", PLUGINS_CONFIG_PATH=str(CONFIG), PLUGINS_LOG_LEVEL="WARNING")
    env.update(extra)
    return env


# ------------------------------------------------------------ ExternalPluginServer


@pytest.fixture
async def server() -> AsyncIterator[ExternalPluginServer]:
    if str(DATA) not in sys.path:
        sys.path.insert(0, str(DATA))
    s = ExternalPluginServer(str(CONFIG))
    assert await s.initialize()
    yield s
    await s.shutdown()


def test_config_path_argument_then_env_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ExternalPluginServer(str(CONFIG))._config_path == str(CONFIG)
    monkeypatch.setenv("PLUGINS_CONFIG_PATH", str(CONFIG))
    assert ExternalPluginServer()._config_path == str(CONFIG)
    monkeypatch.delenv("PLUGINS_CONFIG_PATH")
    from cpex.framework.settings import settings

    settings.cache_clear()
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "resources" / "plugins" / "config.yaml"
    default.parent.mkdir(parents=True)
    default.write_text(CONFIG.read_text())
    s = ExternalPluginServer()
    assert s._config_path == os.path.join(".", "resources", "plugins", "config.yaml")
    assert [p.name for p in s._config.plugins or []] == ["ServedGuard"]


async def test_plugin_configs(server: ExternalPluginServer) -> None:
    configs = await server.get_plugin_configs()
    assert [c["name"] for c in configs] == ["ServedGuard"]
    assert configs[0]["hooks"] == ["tool_pre_invoke", "tool_post_invoke"]
    assert await server.get_plugin_config("servedguard") == configs[0], "case-insensitive"
    assert await server.get_plugin_config("Nobody") is None


EMPTY = PluginContext(global_context=GlobalContext(request_id="r0")).model_dump()


async def test_invoke_hook_shapes(server: ExternalPluginServer) -> None:
    ctx = PluginContext(global_context=GlobalContext(request_id="r1", state={"from_client": "c"}))
    reply = await server.invoke_hook("tool_pre_invoke", "ServedGuard", {"name": "allow", "args": {}}, ctx.model_dump())
    assert reply["plugin_name"] == "ServedGuard"
    assert reply["result"]["continue_processing"] is True
    assert reply["result"]["metadata"]["client_state"] == {"from_client": "c", "from_server": "c+server"}
    assert reply["context"]["state"] == {"seen": "allow"}, "a non-empty context travels back"
    assert reply["context"]["global_context"]["state"]["from_server"] == "c+server"

    blocked = await server.invoke_hook("tool_pre_invoke", "ServedGuard", {"name": "block", "args": {}}, EMPTY)
    assert blocked["result"]["continue_processing"] is False
    assert blocked["result"]["violation"]["code"] == "SERVED_BLOCK"

    failed = await server.invoke_hook("tool_pre_invoke", "ServedGuard", {"name": "error", "args": {}}, EMPTY)
    assert "result" not in failed
    assert failed["error"]["plugin_name"] == "ServedGuard"
    assert "served guard failed on purpose" in failed["error"]["message"]

    unknown = await server.invoke_hook("prompt_pre_fetch", "ServedGuard", {"prompt_id": "1", "args": {}}, EMPTY)
    assert "Unable to find prompt_pre_fetch for plugin ServedGuard" in unknown["error"]["message"]
    nobody = await server.invoke_hook("tool_pre_invoke", "Nobody", {"name": "x"}, EMPTY)
    assert nobody["error"]["plugin_name"] == "Nobody"
    bad = await server.invoke_hook("tool_pre_invoke", "ServedGuard", {"args": "not a payload"}, EMPTY)
    assert bad["error"]["message"], "a payload the hook's model rejects is an error model"
    no_context = await server.invoke_hook("tool_pre_invoke", "ServedGuard", {"name": "allow"}, {})
    assert "global_context" in no_context["error"]["message"], "as upstream: the context needs its global_context"


def test_server_config_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    c = ExternalPluginServer(str(CONFIG)).get_server_config()
    assert (c.host, c.port, c.uds, c.tls) == ("127.0.0.1", 8000, None, None)
    monkeypatch.setenv("PLUGINS_SERVER_HOST", "0.0.0.0")
    monkeypatch.setenv("PLUGINS_SERVER_PORT", "9100")
    from cpex.framework.settings import settings

    settings.cache_clear()
    c = ExternalPluginServer(str(CONFIG)).get_server_config()
    assert (c.host, c.port) == ("0.0.0.0", 9100)
    assert ExternalPluginServer(str(CONFIG)).get_grpc_server_config() is None


def test_transport_choice() -> None:
    assert choose_transport(None, stdin_is_tty=False) == "stdio"
    assert choose_transport(None, stdin_is_tty=True) == "http"
    assert choose_transport("HTTP", stdin_is_tty=False) == "http"
    with pytest.raises(ValueError, match="PLUGINS_TRANSPORT: want stdio or http, got 'grpc'"):
        choose_transport("grpc", stdin_is_tty=False)


# ------------------------------------------------------------ the runtime, our client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Runtime:
    """Our runtime as its own process over HTTP (TCP or a Unix socket)."""

    def __init__(self, uds: Path | None = None, by_path: bool = False) -> None:
        self.port = free_port()
        self.uds = uds
        extra = {"PLUGINS_TRANSPORT": "http", "PLUGINS_SERVER_HOST": "127.0.0.1", "PLUGINS_SERVER_PORT": str(self.port)}
        if uds is not None:
            extra["PLUGINS_SERVER_UDS"] = str(uds)
        target = [runtime_module.__file__] if by_path else ["-m", "cpex.framework.external.mcp.server.runtime"]
        self.proc = subprocess.Popen([sys.executable, *target], env=server_env(**extra), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"runtime exited with {self.proc.returncode}"
            try:
                if uds is not None:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(str(uds))
                else:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the runtime did not listen within 60 s")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def entry(transport: str, rt: Runtime | None) -> dict[str, Any]:
    if transport == "stdio":
        mcp: dict[str, Any] = {
            "proto": "STDIO",
            "cmd": [sys.executable, "-m", "cpex.framework.external.mcp.server.runtime"],
            "env": {k: v for k, v in server_env(PLUGINS_TRANSPORT="stdio").items() if k.startswith(("PLUGINS_", "PYTHONPATH"))},
        }
    elif rt is not None and rt.uds is not None:
        mcp = {"proto": "STREAMABLEHTTP", "url": "http://localhost/mcp", "uds": str(rt.uds)}
    else:
        assert rt is not None
        mcp = {"proto": "STREAMABLEHTTP", "url": rt.base + "/mcp"}
    return {"name": "ServedGuard", "kind": "external", "mcp": mcp, "priority": 2}


@pytest.fixture(params=["stdio", "http", "uds", "http-by-path"])
def transport(request: pytest.FixtureRequest) -> Iterator[tuple[str, Runtime | None]]:
    rt = None
    if request.param == "http":
        rt = Runtime()
    elif request.param == "http-by-path":
        rt = Runtime(by_path=True)
    elif request.param == "uds":
        rt = Runtime(uds=Path(tempfile.mkdtemp(prefix="cpex-")) / "p.sock")
    try:
        yield ("stdio" if request.param == "stdio" else "http", rt)
    finally:
        if rt is not None:
            assert rt.stop() == 0, "SIGTERM ends the runtime cleanly"


@pytest.fixture
async def manager(transport: tuple[str, Runtime | None], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TenantPluginManager]:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry(*transport)]}))
    m = TenantPluginManager(str(path), timeout=10)
    await m.initialize()
    yield m
    await m.shutdown()


async def pre(m: TenantPluginManager, name: str, **kw: Any) -> Any:
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=name, args={"x": "y"}),
                                    GlobalContext(request_id="req-" + name), **kw)
    return result


async def test_our_client_against_our_runtime(manager: TenantPluginManager) -> None:
    plugin = manager.get_plugin("ServedGuard")
    assert plugin is not None and plugin.config.hooks == ["tool_pre_invoke", "tool_post_invoke"]
    assert plugin.config.priority == 2 and plugin.config.description == "served by our runtime"

    allowed = await pre(manager, "allow")
    assert allowed.continue_processing and allowed.violation is None
    assert allowed.metadata["config"] == {"level": "strict"} and allowed.metadata["request_id"] == "req-allow"

    blocked = await pre(manager, "block")
    assert not blocked.continue_processing
    assert blocked.violation is not None and blocked.violation.code == "SERVED_BLOCK"
    assert blocked.violation.details == {"tool": "block"} and blocked.violation.plugin_name == "ServedGuard"

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


async def test_health_and_metrics_over_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    rt = Runtime()
    try:
        with urllib.request.urlopen(rt.base + "/health", timeout=10) as r:
            assert r.status == 200 and r.read() == b'{"status":"healthy"}'
        path = tmp_path / "client.yaml"
        path.write_text(yaml.safe_dump({"plugins": [entry("http", rt)]}))
        m = TenantPluginManager(str(path), timeout=10)
        await m.initialize()
        try:
            for name in ("allow", "allow", "block"):
                await pre(m, name)
        finally:
            await m.shutdown()
        with urllib.request.urlopen(rt.base + "/metrics/prometheus", timeout=10) as r:
            body = r.read().decode()
        assert 'plugin_info{server_name="MCP Plugin Server",ssl_enabled="false",transport="http"} 1' in body
        assert 'cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="allowed",plugin="ServedGuard"} 2' in body
        assert 'cpex_plugin_server_calls_total{hook="tool_pre_invoke",outcome="blocked",plugin="ServedGuard"} 1' in body
        assert 'cpex_plugin_server_call_duration_seconds_count{hook="tool_pre_invoke",plugin="ServedGuard"} 3' in body
        # and the core's own series of the Python host that ran the plugin (core/metrics)
        assert 'cpex_plugin_calls_total{hook="tool_pre_invoke",outcome="allowed",plugin="ServedGuard"} 2' in body
        assert 'cpex_plugin_calls_total{hook="tool_pre_invoke",outcome="blocked",plugin="ServedGuard"} 1' in body
    finally:
        assert rt.stop() == 0


def make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (openssl)."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test CA")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        (d / f"{name}.ext").write_text(ext)
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")


@pytest.mark.skipif(not any(os.access(os.path.join(p, "openssl"), os.X_OK)
                            for p in os.environ.get("PATH", "").split(os.pathsep)), reason="needs the openssl CLI")
async def test_tls_from_server_ssl_settings_with_a_plain_health_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    make_pki(tmp_path)
    for _ in range(20):  # a port whose port+1000 is free too
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1000))
                break
            except OSError:
                continue
    env = server_env(PLUGINS_TRANSPORT="http", PLUGINS_SERVER_HOST="127.0.0.1", PLUGINS_SERVER_PORT=str(port),
                     PLUGINS_SERVER_SSL_ENABLED="true", PLUGINS_SERVER_SSL_CERTFILE=str(tmp_path / "server.pem"),
                     PLUGINS_SERVER_SSL_KEYFILE=str(tmp_path / "server.key"),
                     PLUGINS_SERVER_SSL_CA_CERTS=str(tmp_path / "ca.pem"), PLUGINS_SERVER_SSL_CERT_REQS="2")
    proc = subprocess.Popen([sys.executable, "-m", "cpex.framework.external.mcp.server.runtime"], env=env,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"runtime exited with {proc.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port + 1000}/health", timeout=5) as r:
                    assert r.read() == b'{"status":"healthy"}', "the health port is plain HTTP"
                break
            except OSError:
                assert time.monotonic() < deadline, "no health port within 60 s"
                time.sleep(0.05)
        tls = {"ca_bundle": str(tmp_path / "ca.pem"), "certfile": str(tmp_path / "client.pem"),
               "keyfile": str(tmp_path / "client.key")}
        path = tmp_path / "client.yaml"
        path.write_text(yaml.safe_dump({"plugins": [{"name": "ServedGuard", "kind": "external", "mcp": {
            "proto": "STREAMABLEHTTP", "url": f"https://127.0.0.1:{port}/mcp", "tls": tls}}]}))
        m = TenantPluginManager(str(path), timeout=10)
        await m.initialize()
        try:
            blocked = await pre(m, "block")
            assert blocked.violation is not None and blocked.violation.code == "SERVED_BLOCK"
        finally:
            await m.shutdown()
        # without a client certificate: refused at load, a clear error naming the plugin
        del tls["certfile"], tls["keyfile"]
        path.write_text(yaml.safe_dump({"plugins": [{"name": "ServedGuard", "kind": "external", "mcp": {
            "proto": "STREAMABLEHTTP", "url": f"https://127.0.0.1:{port}/mcp", "tls": tls}}]}))
        with pytest.raises(Exception, match="ServedGuard"):
            m = TenantPluginManager(str(path), timeout=10)
            await m.initialize()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


async def test_a_gateway_style_run_server_script_over_stdio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway's plugin servers find the runtime's file and run it by path from a shell
    # script; our client starts a .sh script with sh.
    script = tmp_path / "run-server.sh"
    script.write_text(
        "set -eu\n"
        'RUNTIME="$("$PY" -c "import cpex.framework.external.mcp.server.runtime as r; print(r.__file__)")"\n'
        'echo "starting $RUNTIME" >&2\n'
        'exec "$PY" "$RUNTIME"\n'
    )
    env = {k: v for k, v in server_env(PLUGINS_TRANSPORT="stdio", PY=sys.executable).items()
           if k.startswith(("PLUGINS_", "PYTHONPATH", "PY"))}
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump({"plugins": [{"name": "ServedGuard", "kind": "external",
                                                 "mcp": {"proto": "STDIO", "script": str(script), "env": env}}]}))
    m = TenantPluginManager(str(path), timeout=10)
    await m.initialize()
    try:
        assert (await pre(m, "allow")).metadata["config"] == {"level": "strict"}
        assert not (await pre(m, "block")).continue_processing
    finally:
        await m.shutdown()
