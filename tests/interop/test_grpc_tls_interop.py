"""gRPC with mutual TLS, both directions, against upstream cpex 0.1.4.

A throwaway CA (openssl) signs a server certificate for 127.0.0.1/localhost and a client
certificate. Ours → upstream: our client with the entry's ``tls:`` against upstream's runtime
with ``PLUGINS_GRPC_SERVER_SSL_*`` and client auth required; and without a client certificate,
refused. Upstream → ours: upstream's client with ``PLUGINS_GRPC_CLIENT_MTLS_*`` against our Go
server with the same settings. Run with ``make test-interop``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DATA, free_port, server_env, stop, upstream_python, wait_listening
from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload

pytestmark = pytest.mark.interop

UPSTREAM = "0.1.4-grpc"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "1", "-subj", "/CN=interop CA", cwd=d)
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=d)
        (d / f"{name}.ext").write_text(f"subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={usage}\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext", cwd=d)
    return {k: str(d / k) for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def server_tls_env(pki: dict[str, str]) -> dict[str, str]:
    return {"PLUGINS_GRPC_SERVER_SSL_ENABLED": "true", "PLUGINS_GRPC_SERVER_SSL_CERTFILE": pki["server.pem"],
            "PLUGINS_GRPC_SERVER_SSL_KEYFILE": pki["server.key"], "PLUGINS_GRPC_SERVER_SSL_CA_CERTS": pki["ca.pem"],
            "PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH": "require"}


@pytest.fixture
def upstream_tls_server(pki: dict[str, str]):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(server_env(server_tls_env(pki)))
    proc = subprocess.Popen([str(upstream_python(UPSTREAM)), "-m", "cpex.framework.external.grpc.server.runtime",
                             "--config", env["PLUGINS_CONFIG_PATH"], "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=str(DATA), stdin=subprocess.DEVNULL, stderr=sys.stderr)
    wait_listening(proc, port=port, what="upstream gRPC TLS runtime")
    yield port
    stop(proc)


async def test_our_client_with_mtls_against_upstream(upstream_tls_server: int, pki: dict[str, str], tmp_path: Path) -> None:
    tls = {"ca_bundle": pki["ca.pem"], "certfile": pki["client.pem"], "keyfile": pki["client.key"]}
    cfg = tmp_path / "plugins.yaml"
    cfg.write_text(yaml.safe_dump({"plugins": [{"name": "InteropGuard", "kind": "external",
                                                "grpc": {"target": f"localhost:{upstream_tls_server}", "tls": tls}}]}))
    m = TenantPluginManager(str(cfg), timeout=10)
    await m.initialize()
    try:
        result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="block", args={}),
                                        GlobalContext(request_id="tls"))
        assert not result.continue_processing and result.violation is not None
        assert result.violation.code == "INTEROP_BLOCK"
    finally:
        await m.shutdown()


async def test_our_client_without_a_certificate_is_refused(upstream_tls_server: int, pki: dict[str, str],
                                                          tmp_path: Path) -> None:
    cfg = tmp_path / "plugins.yaml"
    cfg.write_text(yaml.safe_dump({"plugins": [{"name": "InteropGuard", "kind": "external",
                                                "grpc": {"target": f"localhost:{upstream_tls_server}",
                                                         "tls": {"ca_bundle": pki["ca.pem"]}}}]}))
    m = TenantPluginManager(str(cfg), timeout=10)
    # upstream's manager wraps the plugin's error as this RuntimeError
    with pytest.raises(RuntimeError, match="Plugin initialization failed: InteropGuard") as info:
        await m.initialize()
    assert "InteropGuard" in str(info.value)
    assert "connection failed after 3 attempts" in str(info.value)
    await m.shutdown()


UPSTREAM_CLIENT = r'''
import asyncio, json, sys
from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload

async def main():
    m = PluginManager(sys.argv[1], timeout=10)
    await m.initialize()
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={"q": "forbidden"}),
                                    GlobalContext(request_id="tls"))
    await m.shutdown()
    print(json.dumps({"continue": result.continue_processing,
                      "plugin": result.violation.plugin_name if result.violation else None}))

asyncio.run(main())
'''


def test_upstream_client_with_mtls_against_our_go_server(go_plugin_server: Path, pki: dict[str, str],
                                                         tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(server_tls_env(pki))
    proc = subprocess.Popen([str(go_plugin_server), "--config", str(DATA / "go_server.yaml"), "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "ERROR"], env=env, stdin=subprocess.DEVNULL,
                            stderr=sys.stderr)
    try:
        wait_listening(proc, port=port, what="Go gRPC TLS server")
        cfg = tmp_path / "client.yaml"
        cfg.write_text(yaml.safe_dump({"plugins": [{"name": "GoDeny", "kind": "external",
                                                    "grpc": {"target": f"localhost:{port}"}}]}))
        script = tmp_path / "client.py"
        script.write_text(UPSTREAM_CLIENT)
        cenv = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        cenv.update({"PLUGINS_GRPC_CLIENT_MTLS_CA_BUNDLE": pki["ca.pem"], "PLUGINS_GRPC_CLIENT_MTLS_CERTFILE": pki["client.pem"],
                     "PLUGINS_GRPC_CLIENT_MTLS_KEYFILE": pki["client.key"], "PLUGINS_SSRF_PROTECTION_ENABLED": "false"})
        done = subprocess.run([str(upstream_python(UPSTREAM)), str(script), str(cfg)], env=cenv, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        stop(proc)
    assert out == {"continue": False, "plugin": "GoDeny"}
