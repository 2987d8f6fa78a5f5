"""The pydantic models of cpex.framework.models: fields, defaults, frozenness, validators (spec §3-§4)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import SecretStr, ValidationError

from cpex.framework import models
from cpex.framework.extensions import Extensions, RequestExtension
from cpex.framework.models import (
    AppliedTo,
    Config,
    ControlExecutionRecord,
    ControlExecutionStatus,
    GitRepo,
    GlobalContext,
    GRPCClientConfig,
    GRPCClientTLSConfig,
    GRPCServerConfig,
    GRPCServerTLSConfig,
    InstalledPluginInfo,
    InstalledPluginRegistry,
    MCPClientConfig,
    MCPClientTLSConfig,
    MCPServerConfig,
    MCPServerTLSConfig,
    OnError,
    PluginCondition,
    PluginConfig,
    PluginContext,
    PluginErrorModel,
    PluginInstallationType,
    PluginManifest,
    PluginMode,
    PluginPackageInfo,
    PluginPayload,
    PluginResult,
    PluginVersionInfo,
    PluginVersionRegistry,
    PluginViolation,
    PyPiRepo,
    ToolTemplate,
    TransportType,
    UnixSocketClientConfig,
    UnixSocketServerConfig,
    UserContext,
    _collect_config_keys,
    _truncate,
    _truncate_opt,
)
from cpex.framework.settings import settings


@pytest.fixture(autouse=True)
def _no_plugin_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("PLUGINS_") or name == "UNIX_SOCKET_PATH":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def pem(tmp_path: Path) -> dict[str, str]:
    files = {}
    for name in ("cert.pem", "key.pem", "ca.pem"):
        path = tmp_path / name
        path.write_text("-----BEGIN-----\n", encoding="utf-8")
        files[name.split(".")[0]] = str(path)
    return files


# ------------------------------------------------------------------------------ enums


def test_enum_members_values_and_order() -> None:
    assert [(m.name, m.value) for m in TransportType] == [
        ("SSE", "SSE"), ("HTTP", "HTTP"), ("STDIO", "STDIO"), ("STREAMABLEHTTP", "STREAMABLEHTTP"), ("GRPC", "GRPC")
    ]
    assert [m.value for m in PluginMode] == [
        "fire_and_forget", "concurrent", "sequential", "transform", "audit", "disabled"
    ]
    assert [m.value for m in OnError] == ["fail", "ignore", "disable"]
    assert [m.value for m in ControlExecutionStatus] == [
        "completed", "error", "timeout", "skipped", "cancelled", "disabled"
    ]
    assert [m.value for m in PluginInstallationType] == ["bundled", "pypi", "git", "monorepo", "local"]


def test_strenum_and_str_enum_string_forms() -> None:
    # StrEnum: str() is the value; (str, Enum): str() is Class.MEMBER. Both equal their value.
    assert str(PluginMode.SEQUENTIAL) == "sequential"
    assert str(OnError.IGNORE) == "ignore"
    assert str(ControlExecutionStatus.TIMEOUT) == "timeout"
    assert str(TransportType.SSE) == "TransportType.SSE"
    assert PluginMode.AUDIT == "audit" and TransportType.STDIO == "STDIO"
    assert {PluginMode.AUDIT: 1}["audit"] == 1


@pytest.mark.parametrize("legacy", ["enforce", "permissive", "enforce_ignore_error"])
def test_legacy_mode_names_are_not_enum_members(legacy: str) -> None:
    with pytest.raises(ValueError):
        PluginMode(legacy)


# ------------------------------------------------------------------ templates, conditions


def test_templates_and_applied_to() -> None:
    tool = ToolTemplate(tool_name="t")
    assert (tool.fields, tool.result, tool.context, tool.extensions) == (None, False, None, None)
    applied = AppliedTo(tools=[{"tool_name": "x", "fields": ["a"], "result": True}])
    assert applied.tools is not None and applied.tools[0].result is True
    assert (applied.prompts, applied.resources) == (None, None)
    with pytest.raises(ValidationError):
        ToolTemplate()


def test_condition_defaults_and_types() -> None:
    cond = PluginCondition()
    assert cond.model_dump() == {
        "server_ids": None, "tenant_ids": None, "tools": None, "prompts": None, "resources": None,
        "agents": None, "user_patterns": None, "content_types": None,
    }
    cond = PluginCondition(tools=["a", "a", "b"], user_patterns=["x", "x"])
    assert cond.tools == {"a", "b"}
    assert cond.user_patterns == ["x", "x"]
    cond.tools = {"c"}  # mutable
    assert cond.tools == {"c"}


def test_condition_content_types_are_normalised() -> None:
    cond = PluginCondition(content_types=["Application/JSON; charset=utf-8", " TEXT/plain "])
    assert cond.content_types == ["application/json", "text/plain"]
    assert PluginCondition(content_types=[]).content_types == []


def test_condition_sets_serialise_as_lists_and_empty_as_null() -> None:
    dumped = PluginCondition(server_ids={"s"}, tenant_ids=set(), tools=["t1", "t2"]).model_dump()
    assert dumped["server_ids"] == ["s"]
    assert dumped["tenant_ids"] is None
    assert sorted(dumped["tools"]) == ["t1", "t2"]
    assert json.loads(PluginCondition(agents={"a"}).model_dump_json())["agents"] == ["a"]


# ------------------------------------------------------------------------- TLS configs


def test_tls_paths_must_exist_and_are_expanded(pem: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    tls = MCPClientTLSConfig(certfile=pem["cert"], keyfile=pem["key"], ca_bundle=pem["ca"])
    assert (tls.verify, tls.check_hostname, tls.keyfile_password) == (True, True, None)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert MCPClientTLSConfig(ca_bundle="~/ca.pem").ca_bundle == pem["ca"]
    with pytest.raises(ValidationError, match="TLS file path does not exist: /nope.pem"):
        MCPClientTLSConfig(certfile="/nope.pem")
    with pytest.raises(ValidationError, match="TLS file path does not exist"):
        MCPServerTLSConfig(ca_bundle=str(tmp_path))  # a directory is not a file
    assert MCPClientTLSConfig(certfile="").certfile == ""


def test_keyfile_requires_certfile(pem: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="keyfile requires certfile"):
        MCPClientTLSConfig(keyfile=pem["key"])


def test_client_tls_from_env(pem: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert MCPClientTLSConfig.from_env() is None
    monkeypatch.setenv("PLUGINS_CLIENT_MTLS_CERTFILE", pem["cert"])
    monkeypatch.setenv("PLUGINS_CLIENT_MTLS_KEYFILE", pem["key"])
    monkeypatch.setenv("PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD", "pw")
    monkeypatch.setenv("PLUGINS_CLIENT_MTLS_VERIFY", "false")
    settings.cache_clear()
    tls = MCPClientTLSConfig.from_env()
    assert tls is not None
    assert (tls.certfile, tls.keyfile, tls.keyfile_password, tls.verify, tls.check_hostname) == (
        pem["cert"], pem["key"], "pw", False, True
    )


def test_server_tls_and_server_config_from_env(pem: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert MCPServerTLSConfig.from_env() is None
    assert MCPServerConfig.from_env() is None
    monkeypatch.setenv("PLUGINS_SERVER_SSL_CERTFILE", pem["cert"])
    monkeypatch.setenv("PLUGINS_SERVER_SSL_CA_CERTS", pem["ca"])
    monkeypatch.setenv("PLUGINS_SERVER_SSL_CERT_REQS", "1")
    settings.cache_clear()
    tls = MCPServerTLSConfig.from_env()
    assert tls is not None and (tls.ca_bundle, tls.ssl_cert_reqs) == (pem["ca"], 1)
    # TLS settings alone do not make a server config: PLUGINS_SERVER_SSL_ENABLED switches it on.
    assert MCPServerConfig.from_env() is None
    monkeypatch.setenv("PLUGINS_SERVER_PORT", "9001")
    settings.cache_clear()
    server = MCPServerConfig.from_env()
    assert server is not None and (server.host, server.port, server.tls) == ("127.0.0.1", 9001, None)
    monkeypatch.setenv("PLUGINS_SERVER_SSL_ENABLED", "true")
    settings.cache_clear()
    server = MCPServerConfig.from_env()
    assert server is not None and server.tls is not None and server.tls.certfile == pem["cert"]
    assert MCPServerTLSConfig().ssl_cert_reqs == 2


# ------------------------------------------------------------------------ MCP server/client


def test_server_config_defaults_and_uds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pem: dict[str, str]) -> None:
    server = MCPServerConfig()
    assert (server.host, server.port, server.uds, server.tls) == ("127.0.0.1", 8000, None, None)
    monkeypatch.chdir(tmp_path)
    assert MCPServerConfig(uds="plugin.sock").uds == str(tmp_path / "plugin.sock")  # resolved
    with pytest.raises(ValidationError, match="MCP server uds parent directory does not exist"):
        MCPServerConfig(uds=str(tmp_path / "missing" / "p.sock"))
    with pytest.raises(ValidationError, match="MCP server uds must be a non-empty string"):
        MCPServerConfig(uds="  ")
    with pytest.raises(ValidationError, match="TLS configuration is not supported for Unix domain sockets"):
        MCPServerConfig(uds=str(tmp_path / "p.sock"), tls=MCPServerTLSConfig(certfile=pem["cert"]))


def test_world_writable_uds_parent_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(shared.stat().st_mode | stat.S_IWOTH)
    with caplog.at_level(logging.WARNING, logger="cpex.framework.models"):
        config = MCPServerConfig(uds=str(shared / "p.sock"))
    assert config.uds == str(shared / "p.sock")
    assert any("world-writable" in r.getMessage() for r in caplog.records)


def test_client_config_defaults_and_url_validation() -> None:
    client = MCPClientConfig(proto="STREAMABLEHTTP", url="http://localhost:8000/mcp")
    assert client.proto is TransportType.STREAMABLEHTTP
    assert (client.reconnect_attempts, client.reconnect_delay, client.tls, client.script) == (3, 0.1, None, None)
    with pytest.raises(ValidationError, match="blocked by SSRF protection"):
        MCPClientConfig(proto="STREAMABLEHTTP", url="http://127.0.0.1:8000/mcp")
    with pytest.raises(ValidationError, match="credentials"):
        MCPClientConfig(proto="SSE", url="https://u:p@example.com/")
    with pytest.raises(ValidationError):
        MCPClientConfig(url="http://localhost/")  # proto is required


def test_client_config_url_with_ssrf_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    settings.cache_clear()
    assert MCPClientConfig(proto="STREAMABLEHTTP", url="http://127.0.0.1:8000/mcp").url == "http://127.0.0.1:8000/mcp"


def test_client_config_stdio_script_rules(tmp_path: Path) -> None:
    assert MCPClientConfig(proto="STDIO", script="relative/server.py").script == "relative/server.py"
    py = tmp_path / "server.py"
    py.write_text("", encoding="utf-8")
    assert MCPClientConfig(proto="STDIO", script=str(py)).script == str(py)
    binary = tmp_path / "server-bin"
    binary.write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match="must be executable"):
        MCPClientConfig(proto="STDIO", script=str(binary))
    binary.chmod(0o755)
    assert MCPClientConfig(proto="STDIO", script=str(binary)).script == str(binary)
    with pytest.raises(ValidationError, match="does not exist"):
        MCPClientConfig(proto="STDIO", script=str(tmp_path / "missing.py"))


def test_client_config_stdio_cmd_env_cwd(tmp_path: Path) -> None:
    client = MCPClientConfig(proto="STDIO", cmd=["python", "-m", "srv"], env={"K": "V"}, cwd=str(tmp_path / "."))
    assert client.cwd == str(tmp_path)
    with pytest.raises(ValidationError, match="cmd must be a non-empty list"):
        MCPClientConfig(proto="STDIO", cmd=[])
    with pytest.raises(ValidationError, match="cmd entries must be non-empty strings"):
        MCPClientConfig(proto="STDIO", cmd=["python", " "])
    with pytest.raises(ValidationError, match="env must be a non-empty dict"):
        MCPClientConfig(proto="STDIO", cmd=["x"], env={})
    with pytest.raises(ValidationError, match="env keys must be non-empty strings"):
        MCPClientConfig(proto="STDIO", cmd=["x"], env={" ": "v"})
    with pytest.raises(ValidationError, match="does not exist or is not a directory"):
        MCPClientConfig(proto="STDIO", cmd=["x"], cwd=str(tmp_path / "nope"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"proto": "STDIO", "url": "http://localhost/", "cmd": ["x"]}, "URL is only valid for HTTP/SSE transports"),
        ({"proto": "SSE", "url": "http://localhost/", "cmd": ["x"]}, "only valid for STDIO transport"),
        ({"proto": "STREAMABLEHTTP", "url": "http://localhost/", "env": {"a": "b"}}, "only valid for STDIO"),
        ({"proto": "SSE", "url": "http://localhost/", "uds": "/tmp/x.sock"}, "uds is only valid for STREAMABLEHTTP"),
    ],
)
def test_client_config_transport_fields(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MCPClientConfig(**fields)


def test_client_config_tls_rules(pem: dict[str, str], tmp_path: Path) -> None:
    tls = {"certfile": pem["cert"]}
    assert MCPClientConfig(proto="SSE", url="https://localhost/", tls=tls).tls is not None
    with pytest.raises(ValidationError, match="TLS configuration is only valid for HTTP/SSE transports"):
        MCPClientConfig(proto="STDIO", cmd=["x"], tls=tls)
    with pytest.raises(ValidationError, match="not supported for Unix domain sockets"):
        MCPClientConfig(proto="STREAMABLEHTTP", url="http://localhost/", uds=str(tmp_path / "s.sock"), tls=tls)
    uds_client = MCPClientConfig(proto="STREAMABLEHTTP", url="http://localhost/", uds=str(tmp_path / "s.sock"))
    assert uds_client.uds == str(tmp_path / "s.sock")


# ------------------------------------------------------------------------------- gRPC / Unix


def test_grpc_client_config(tmp_path: Path, pem: dict[str, str]) -> None:
    assert GRPCClientConfig(target="host:50051").get_target() == "host:50051"
    sock = str(tmp_path / "g.sock")
    assert GRPCClientConfig(uds=sock).get_target() == f"unix://{sock}"
    with pytest.raises(ValidationError, match="gRPC target must be in host:port format, got 'host'"):
        GRPCClientConfig(target="host")
    with pytest.raises(ValidationError, match="gRPC target address cannot be empty"):
        GRPCClientConfig(target="")
    with pytest.raises(ValidationError, match="either 'target' or 'uds'"):
        GRPCClientConfig()
    with pytest.raises(ValidationError, match="cannot have both"):
        GRPCClientConfig(target="h:1", uds=sock)
    with pytest.raises(ValidationError, match="not supported for Unix domain sockets"):
        GRPCClientConfig(uds=sock, tls=GRPCClientTLSConfig(certfile=pem["cert"]))
    with pytest.raises(ValidationError, match="gRPC client uds parent directory does not exist"):
        GRPCClientConfig(uds=str(tmp_path / "no" / "g.sock"))


def test_grpc_tls_and_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pem: dict[str, str]) -> None:
    assert GRPCClientTLSConfig().verify is True
    assert GRPCServerTLSConfig().client_auth == "require"
    assert GRPCServerTLSConfig(client_auth="OPTIONAL").client_auth == "optional"
    with pytest.raises(ValidationError, match="client_auth must be one of"):
        GRPCServerTLSConfig(client_auth="sometimes")
    server = GRPCServerConfig()
    assert (server.host, server.port, server.get_bind_address()) == ("127.0.0.1", 50051, "127.0.0.1:50051")
    sock = str(tmp_path / "s.sock")
    assert GRPCServerConfig(uds=sock).get_bind_address() == f"unix://{sock}"
    with pytest.raises(ValidationError, match="not supported for Unix domain sockets"):
        GRPCServerConfig(uds=sock, tls=GRPCServerTLSConfig(certfile=pem["cert"]))
    assert GRPCServerConfig.from_env() is None and GRPCClientTLSConfig.from_env() is None
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_HOST", "0.0.0.0")
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_SSL_ENABLED", "true")
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_SSL_CERTFILE", pem["cert"])
    monkeypatch.setenv("PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH", "None")
    monkeypatch.setenv("PLUGINS_GRPC_CLIENT_MTLS_VERIFY", "false")
    settings.cache_clear()
    from_env = GRPCServerConfig.from_env()
    assert from_env is not None and from_env.host == "0.0.0.0" and from_env.port == 50051
    assert from_env.tls is not None and from_env.tls.client_auth == "none"
    client_tls = GRPCClientTLSConfig.from_env()
    assert client_tls is not None and client_tls.verify is False


def test_unix_socket_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    client = UnixSocketClientConfig(path="/run/p.sock")
    assert (client.reconnect_attempts, client.reconnect_delay, client.timeout) == (3, 0.1, 30.0)
    with pytest.raises(ValidationError, match="Unix socket path cannot be empty"):
        UnixSocketClientConfig(path="")
    with pytest.raises(ValidationError, match="must be absolute, got 'rel.sock'"):
        UnixSocketClientConfig(path="rel.sock")
    assert UnixSocketServerConfig().path == "/tmp/mcpgateway-plugins.sock"
    assert UnixSocketServerConfig.from_env() is None
    monkeypatch.setenv("UNIX_SOCKET_PATH", "/run/x.sock")
    settings.cache_clear()
    from_env = UnixSocketServerConfig.from_env()
    assert from_env is not None and from_env.path == "/run/x.sock"


# ---------------------------------------------------------------------------- PluginConfig

PLUGIN_CONFIG_FIELDS = [
    "name", "description", "author", "kind", "namespace", "version", "hooks", "tags", "mode", "on_error",
    "priority", "max_content_size", "conditions", "applied_to", "capabilities", "config", "mcp", "grpc",
    "unix_socket",
]


def test_plugin_config_defaults_and_field_order() -> None:
    config = PluginConfig(name="p", kind="pkg.P")
    assert list(config.model_dump()) == PLUGIN_CONFIG_FIELDS
    assert config.model_dump() == {
        "name": "p", "description": None, "author": None, "kind": "pkg.P", "namespace": None, "version": None,
        "hooks": [], "tags": [], "mode": PluginMode.SEQUENTIAL, "on_error": OnError.FAIL, "priority": 100,
        "max_content_size": 10_000_000, "conditions": [], "applied_to": None, "capabilities": [],
        "config": None, "mcp": None, "grpc": None, "unix_socket": None,
    }
    with pytest.raises(ValidationError):
        PluginConfig(name="p")


def test_plugin_config_is_frozen_and_copied_with_updates() -> None:
    config = PluginConfig(name="p", kind="pkg.P", config={"a": 1})
    assert PluginConfig.model_config.get("frozen") is True
    with pytest.raises(ValidationError):
        config.priority = 5  # type: ignore[misc]
    updated = config.model_copy(update={"mode": PluginMode.DISABLED, "priority": 1})
    assert (updated.mode, updated.priority, config.priority) == (PluginMode.DISABLED, 1, 100)


def test_plugin_config_ignores_unknown_keys() -> None:
    assert not hasattr(PluginConfig(name="p", kind="k", surprise=1), "surprise")


@pytest.mark.parametrize(
    ("data", "mode", "on_error"),
    [
        ({"mode": "enforce"}, PluginMode.SEQUENTIAL, OnError.FAIL),
        ({"mode": "permissive"}, PluginMode.TRANSFORM, OnError.FAIL),
        ({"mode": "enforce_ignore_error"}, PluginMode.SEQUENTIAL, OnError.IGNORE),
        ({"mode": "enforce_ignore_error", "on_error": "disable"}, PluginMode.SEQUENTIAL, OnError.DISABLE),
        ({"mode": "enforce_ignore_error", "on_error": "fail"}, PluginMode.SEQUENTIAL, OnError.FAIL),
        ({"mode": "audit"}, PluginMode.AUDIT, OnError.FAIL),
        ({"mode": PluginMode.CONCURRENT}, PluginMode.CONCURRENT, OnError.FAIL),
    ],
)
def test_legacy_mode_migration(data: dict[str, Any], mode: PluginMode, on_error: OnError) -> None:
    config = PluginConfig(name="p", kind="k", **data)
    assert (config.mode, config.on_error) == (mode, on_error)


def test_legacy_migration_rewrites_the_input_dict() -> None:
    data: dict[str, Any] = {"name": "p", "kind": "k", "mode": "enforce_ignore_error"}
    PluginConfig.model_validate(data)
    assert data["mode"] == "sequential" and data["on_error"] == "ignore"


def test_capabilities() -> None:
    config = PluginConfig(name="p", kind="k", capabilities=["write_headers", "read_agent", "read_agent"])
    assert config.capabilities == frozenset({"write_headers", "read_agent"})
    assert config.model_dump()["capabilities"] == ["read_agent", "write_headers"]  # sorted list
    assert json.loads(config.model_dump_json())["capabilities"] == ["read_agent", "write_headers"]
    assert PluginConfig(name="p", kind="k", capabilities=None).capabilities == frozenset()
    assert PluginConfig(name="p", kind="k", capabilities="read_agent").capabilities == frozenset()
    assert PluginConfig(name="p", kind="k", capabilities={"read_labels"}).capabilities == frozenset({"read_labels"})
    with pytest.raises(ValidationError, match="Unknown capability: 'fly'"):
        PluginConfig(name="p", kind="k", capabilities=["read_agent", "fly"])


def test_mcp_url_or_script_rules() -> None:
    ok = PluginConfig(name="p", kind="external", mcp={"proto": "STDIO", "script": "srv.py"})
    assert ok.mcp is not None and ok.mcp.script == "srv.py"
    with pytest.raises(ValidationError, match="Plugin p has transport type set to STDIO but no script/cmd value"):
        PluginConfig(name="p", kind="external", mcp={"proto": "STDIO"})
    with pytest.raises(ValidationError, match="must set either script or cmd for STDIO, not both"):
        PluginConfig(name="p", kind="external", mcp={"proto": "STDIO", "script": "s.py", "cmd": ["x"]})
    with pytest.raises(ValidationError, match="has transport type set to StreamableHTTP but no url value"):
        PluginConfig(name="p", kind="external", mcp={"proto": "SSE"})
    with pytest.raises(ValidationError, match="must set transport type to either SSE or STREAMABLEHTTP or STDIO"):
        PluginConfig(name="p", kind="external", mcp={"proto": "HTTP"})


def test_external_plugin_rules() -> None:
    mcp = {"proto": "STREAMABLEHTTP", "url": "http://localhost:8000/mcp"}
    with pytest.raises(ValidationError, match="Cannot have p plugin defined as 'external' with 'config' set"):
        PluginConfig(name="p", kind="external", mcp=mcp, config={"a": 1})
    allowed = PluginConfig.model_validate(
        {"name": "p", "kind": "external", "mcp": mcp, "config": {"a": 1}},
        context={"ignore_config_external": True},
    )
    assert allowed.config == {"a": 1}
    assert PluginConfig(name="p", kind="external", mcp=mcp, config={}).config == {}
    with pytest.raises(ValidationError, match="must have 'mcp', 'grpc', or 'unix_socket' section configured"):
        PluginConfig(name="p", kind="external")
    with pytest.raises(ValidationError, match="can only have one transport configured"):
        PluginConfig(name="p", kind="external", mcp=mcp, unix_socket={"path": "/run/p.sock"})
    # Transport sections on in-process kinds are not an error, and config is allowed there.
    assert PluginConfig(name="p", kind="pkg.P", config={"a": 1}, grpc={"target": "h:1"}).grpc is not None


def test_to_json_and_safe_config() -> None:
    config = PluginConfig(
        name="p", kind="k", mode="audit", capabilities=["read_agent"], conditions=[{"tools": ["t"]}], config={"x": 1}
    )
    as_json = config.to_json()
    assert as_json["mode"] == "audit" and as_json["capabilities"] == ["read_agent"]
    assert as_json["conditions"][0]["tools"] == ["t"]
    safe = config.get_safe_config()
    assert isinstance(safe, str) and orjson.loads(safe) == as_json
    assert PluginConfig.model_validate(orjson.loads(safe)) == config


# ------------------------------------------------------------------------------------ Config


def test_config_defaults_extra_and_mutability() -> None:
    config = Config()
    assert (config.plugins, config.plugin_dirs, config.server_settings) == ([], [], None)
    assert (config.grpc_server_settings, config.unix_socket_server_settings) == (None, None)
    config = Config(plugins=[{"name": "p", "kind": "k"}], plugin_settings={"x": 1})
    assert not hasattr(config, "plugin_settings")
    assert Config().plugins is not Config().plugins
    replacement = (config.plugins or [])[0].model_copy(update={"priority": 3})
    config.plugins = [replacement]  # mutable, as the gateway relies on
    deep = config.model_copy(deep=True)
    assert deep.plugins is not config.plugins and (deep.plugins or [])[0].priority == 3


# ------------------------------------------------------------------------------ catalog


def test_pypi_repo_validation() -> None:
    assert PyPiRepo(pypi_package="cpex-pii-filter", version_constraint=">=1.0.0,<2").version_constraint == ">=1.0.0,<2"
    assert PyPiRepo(pypi_package="").pypi_package is None
    assert PyPiRepo(pypi_package="x", version_constraint="").version_constraint is None
    with pytest.raises(ValidationError, match="Invalid PyPI package name '-bad'"):
        PyPiRepo(pypi_package="-bad")
    with pytest.raises(ValidationError, match="cannot be empty or whitespace"):
        PyPiRepo(pypi_package="  ")
    with pytest.raises(ValidationError, match="exceeds maximum length of 214"):
        PyPiRepo(pypi_package="a" * 215)
    with pytest.raises(ValidationError, match="Invalid version constraint 'latest'"):
        PyPiRepo(pypi_package="x", version_constraint="latest")
    with pytest.raises(ValidationError, match="cannot contain empty parts"):
        PyPiRepo(pypi_package="x", version_constraint=">=1,,<2")


def test_git_repo_validation() -> None:
    repo = GitRepo(git_repository="https://github.com/u/r.git", git_branch_tag_commit="v1.0")
    assert repo.git_branch_tag_commit == "v1.0"
    assert GitRepo(git_repository="git@github.com:u/r.git", git_branch_tag_commit=None).git_repository
    with pytest.raises(ValidationError):
        GitRepo(git_repository="https://github.com/u/r.git")  # the ref key is required
    with pytest.raises(ValidationError, match="Invalid Git repository URL"):
        GitRepo(git_repository="svn://x/y", git_branch_tag_commit="main")
    with pytest.raises(ValidationError, match="blocked by SSRF"):
        GitRepo(git_repository="http://10.0.0.1/u/r.git", git_branch_tag_commit="main")
    for bad in ("-x", ".x", "/x", "x/", "x.", "a b", "x" * 256):
        with pytest.raises(ValidationError, match="Git branch/tag/commit"):
            GitRepo(git_repository="https://github.com/u/r", git_branch_tag_commit=bad)


def test_manifest_helpers() -> None:
    manifest = PluginManifest(
        name="My Filter", kind="pkg.F", description="d", author="a", version="1.2", tags=["t"],
        available_hooks=["tool_pre_invoke"], default_config={"a": 1, "b": 2},
    )
    assert manifest.suggest_instance_name() == "my-filter"
    config = manifest.create_instance_config("inst", PluginMode.AUDIT, config={"b": 3})
    assert (config.name, config.kind, config.mode, config.priority) == ("inst", "pkg.F", PluginMode.AUDIT, 100)
    assert config.hooks == ["tool_pre_invoke"] and config.tags == ["t"] and config.config == {"a": 1, "b": 3}
    assert (config.description, config.author, config.version) == ("d", "a", "1.2")
    assert manifest.default_config == {"a": 1, "b": 2}


def test_package_info_rules() -> None:
    assert PluginPackageInfo(pypi_package="x").pypi_package == "x"
    with pytest.raises(ValidationError, match="At least one installation method must be specified"):
        PluginPackageInfo()
    with pytest.raises(ValidationError, match="can only be specified when 'git_repository' is provided"):
        PluginPackageInfo(pypi_package="x", git_branch_tag_commit="main")


def _version(version: str, span: str | None) -> PluginVersionInfo:
    return PluginVersionInfo(version=version, released="2026-01-01", manifest_file="m.yaml",
                             min_max_framework_version=span)


def test_version_registry_latest_compatible(caplog: pytest.LogCaptureFixture) -> None:
    info = _version("1.0.0", "0.1.0,0.1.0")
    assert (info.deprecated, info.breaking_changes, info.changelog) == (False, None, None)
    assert PluginVersionInfo(version="1", released="r", manifest_file="m").min_max_framework_version == "0.1.0,0.1.0"
    registry = PluginVersionRegistry(
        latest=info,
        versions=[
            _version("1.0.0", "0.1.0,0.1.4"),
            _version("1.10.0", "0.1.2,0.1.9"),
            _version("1.9.0", "0.1.0,0.1.9"),
            _version("2.0.0", "0.2.0,0.3.0"),
            _version("3.0.0", None),
            _version("4.0.0", "garbage"),
        ],
    )
    assert registry.get_version() is info
    assert registry.latest_prerelease is None
    best = registry.get_latest_compatible("0.1.4")
    assert best is not None and best.version == "1.10.0"  # compared as versions, not strings
    assert registry.get_latest_compatible("0.1.1").version == "1.9.0"  # type: ignore[union-attr]
    assert registry.get_latest_compatible("0.5.0") is None
    with caplog.at_level(logging.WARNING):
        assert registry.get_latest_compatible("not a version") is None
    assert PluginVersionRegistry(versions=[]).latest is None


def test_installed_registry_persists_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "reg" / "installed-plugins.json"
    monkeypatch.setattr(models, "_plugin_registry_path", lambda: target)

    def info(name: str, version: str) -> InstalledPluginInfo:
        return InstalledPluginInfo(
            name=name, kind="pkg.P", version=version, installation_type="pypi", installation_path="/x",
            installed_at="now", installed_by="me",
        )

    registry = InstalledPluginRegistry()
    assert registry.plugins == []
    registry.register_plugin(info("a", "1"))
    registry.register_plugin(info("b", "1"))
    registry.register_plugin(info("a", "2"))  # replaces
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert [(p["name"], p["version"]) for p in saved["plugins"]] == [("b", "1"), ("a", "2")]
    assert saved["plugins"][0]["installation_type"] == "pypi" and saved["plugins"][0]["editable"] is False
    assert registry.unregister_plugin("zzz") is False
    assert registry.unregister_plugin("b") is True
    assert [p["name"] for p in json.loads(target.read_text(encoding="utf-8"))["plugins"]] == ["a"]
    assert [p.name for p in target.parent.iterdir()] == ["installed-plugins.json"]  # no temp file left


# ---------------------------------------------------------------------------- records


def test_truncate_bounds_utf8_bytes() -> None:
    assert _truncate("short") == "short"
    exact = "a" * 256
    assert _truncate(exact) is exact
    cut = _truncate("a" * 300)
    assert cut == "a" * 253 + "…" and len(cut.encode()) == 256
    # Multi-byte characters are never split.
    for text in ("é" * 200, "€" * 100, "😀" * 80, "a" + "😀" * 80):
        out = _truncate(text)
        assert len(out.encode("utf-8")) <= 256 and out.endswith("…")
        assert text.startswith(out[:-1])
    assert _truncate("abcdef", max_len=5) == "ab…"
    assert _truncate_opt(None) is None and _truncate_opt("x" * 300) == _truncate("x" * 300)


def test_collect_config_keys() -> None:
    assert _collect_config_keys(None) == [] and _collect_config_keys(["a"]) == []
    assert _collect_config_keys({"b": 1, "a": {"secret": "v"}}) == ["b", "a"]
    many = {f"k{i}": i for i in range(100)}
    assert _collect_config_keys(many) == [f"k{i}" for i in range(64)]
    assert _collect_config_keys({"x" * 300: 1}) == [_truncate("x" * 300)]


def test_control_execution_record_defaults() -> None:
    record = ControlExecutionRecord(
        plugin_id="0" * 32, plugin_name="p", plugin_kind="k", hook_name="h", mode="audit", status="timeout"
    )
    assert record.mode is PluginMode.AUDIT and record.status is ControlExecutionStatus.TIMEOUT
    assert record.model_dump(exclude={"plugin_id", "plugin_name", "plugin_kind", "hook_name", "mode", "status"}) == {
        "requested_allow": None, "effective_allow": True, "matched": None, "applied": False,
        "payload_modified": False, "extensions_modified": False, "duration_ns": 0, "reason": None,
        "error_code": None, "config_keys": [],
    }
    assert json.loads(record.model_dump_json())["status"] == "timeout"


# ---------------------------------------------------------------- errors, violations, user


def test_error_model_and_violation() -> None:
    error = PluginErrorModel(message="m", plugin_name="p")
    assert (error.code, error.details, error.mcp_error_code) == ("", {}, -32603)
    violation = PluginViolation(reason="r", description="d", code="C")
    assert violation.details == {} and violation.plugin_name == ""
    assert (violation.mcp_error_code, violation.http_status_code, violation.http_headers) == (None, None, None)
    violation.plugin_name = "stamped"
    assert violation.plugin_name == "stamped"
    assert "plugin_name" not in violation.model_dump() and "_plugin_name" not in violation.model_dump()
    assert PluginViolation.model_validate_json(violation.model_dump_json()).plugin_name == ""
    for bad in ("", "   ", 3):
        with pytest.raises(ValueError, match="Name must be a non-empty string"):
            violation.plugin_name = bad  # type: ignore[assignment]
    rate = PluginViolation(reason="r", description="d", code="RATE", http_status_code=429,
                           http_headers={"Retry-After": "1"}, mcp_error_code=-32000)
    assert rate.model_dump()["http_headers"] == {"Retry-After": "1"}


def test_user_context_defaults() -> None:
    user = UserContext(user_id="alice")
    assert user.model_dump() == {
        "user_id": "alice", "email": None, "full_name": None, "is_admin": False, "groups": [], "roles": [],
        "team_id": None, "teams": None, "department": None, "attributes": {}, "auth_method": None,
        "authenticated_at": None, "service_account": None, "delegation_chain": [],
    }
    stamped = UserContext(user_id="a", authenticated_at="2026-01-01T00:00:00Z")
    assert stamped.authenticated_at is not None and stamped.authenticated_at.year == 2026


# --------------------------------------------------------------------------- PluginResult


class Payload(PluginPayload):
    name: str
    items: list[int] = []  # noqa: RUF012 - a pydantic field: copied per instance


def test_plugin_result_defaults_and_dump_order() -> None:
    result = PluginResult()
    # denial_metadata: added by the published 0.1.4 sdist (not in the spec's field list)
    assert list(result.model_dump()) == [
        "continue_processing", "modified_payload", "modified_extensions", "violation", "metadata",
        "denial_metadata", "http_headers", "retry_delay_ms", "executions",
    ]
    assert (result.continue_processing, result.metadata, result.background_tasks, result.executions) == (
        True, {}, [], []
    )
    assert result.denial_metadata is None
    assert PluginResult().metadata is not result.metadata
    result.retry_delay_ms = 5  # mutable
    assert result.retry_delay_ms == 5


def test_plugin_result_parametrised() -> None:
    alias = PluginResult[Payload]
    result = alias(modified_payload={"name": "x"}, modified_extensions=Extensions(request=RequestExtension()))
    assert isinstance(result, PluginResult)
    assert isinstance(result.modified_payload, Payload) and result.modified_payload.name == "x"
    with pytest.raises(ValidationError):
        alias(modified_payload={"unrelated": 1})
    assert PluginResult(modified_payload={"anything": object}).modified_payload is not None


async def test_background_tasks_are_excluded_and_awaited() -> None:
    async def ok() -> None:
        return None

    async def reports_error() -> PluginErrorModel:
        return PluginErrorModel(message="faf failed", plugin_name="p")

    async def raises() -> None:
        raise RuntimeError("swallowed")

    assert await PluginResult().wait_for_background_tasks() == []
    tasks = [asyncio.create_task(ok()), asyncio.create_task(reports_error()), asyncio.create_task(raises())]
    result = PluginResult(background_tasks=tasks)
    assert "background_tasks" not in result.model_dump()
    assert "background_tasks" not in json.loads(result.model_dump_json())
    errors = await result.wait_for_background_tasks()
    assert [e.message for e in errors] == ["faf failed"]


# ------------------------------------------------------------------------------- contexts


def test_global_context_fields_and_validation() -> None:
    gc = GlobalContext(request_id="r")
    assert list(gc.model_dump()) == [
        "request_id", "user", "user_context", "tenant_id", "server_id", "content_type", "state", "metadata"
    ]
    assert (gc.user, gc.state, gc.metadata) == (None, {}, {})
    gc.user = {"email": "a@b"}  # mutable; dict users allowed
    gc.server_id = "s"
    assert GlobalContext(request_id="r", content_type="a" * 200).content_type == "a" * 200
    with pytest.raises(ValidationError, match="Content-Type header too long"):
        GlobalContext(request_id="r", content_type="a" * 201)
    with pytest.raises(ValidationError, match="Content-Type contains invalid characters"):
        GlobalContext(request_id="r", content_type="text/plain\n")
    with pytest.raises(ValidationError):
        GlobalContext()


def test_plugin_context_properties_and_state() -> None:
    gc = GlobalContext(request_id="r", user="alice@example.com")
    context = PluginContext(global_context=gc)
    assert (context.state, context.metadata, context.user_context) == ({}, {}, None)
    assert context.user_email == "alice@example.com" and context.user_groups == []
    gc.user = {"email": "dict@example.com"}
    assert context.user_email == "dict@example.com"
    gc.user = None
    assert context.user_email is None
    gc.user_context = UserContext(user_id="u", groups=["g1"])  # email None still wins over user
    gc.user = "ignored@example.com"
    assert context.user_email is None and context.user_groups == ["g1"]
    assert context.user_context is gc.user_context


async def test_plugin_context_state_helpers_cleanup_and_is_empty() -> None:
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    assert context.is_empty()
    assert context.get_state("k") is None and context.get_state("k", 1) == 1
    context.set_state("k", "v")
    assert context.get_state("k") == "v" and not context.is_empty()
    context.metadata["m"] = 1
    await context.cleanup()
    assert context.state == {} and context.metadata == {} and context.is_empty()
    context.global_context.state["shared"] = True
    assert not context.is_empty()


# ------------------------------------------------------------------------------- payloads


def test_payload_is_frozen_but_nested_containers_are_not() -> None:
    payload = Payload(name="n", items=[1], extra_field="ignored")
    assert PluginPayload.model_config.get("frozen") is True
    assert not hasattr(payload, "extra_field")
    with pytest.raises(ValidationError):
        payload.name = "other"  # type: ignore[misc]
    payload.items.append(2)
    assert payload.items == [1, 2]
    assert payload.model_copy(update={"name": "m"}).name == "m"


def test_secret_str_in_payloads_uses_arbitrary_types() -> None:
    class WithObject(PluginPayload):
        handle: object
        token: SecretStr

    marker = object()
    assert WithObject(handle=marker, token="t").handle is marker


@pytest.mark.parametrize(
    "transport",
    [
        {"mcp": {"proto": "STDIO", "script": "server.py"}},
        {"grpc": {"target": "plugins.example.com:50051"}},
        {"unix_socket": {"path": "/run/plugins.sock"}},
    ],
    ids=["mcp", "grpc", "unix_socket"],
)
def test_external_entries_do_not_warn(transport: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cpex.framework.models"):
        PluginConfig(name="remote", kind="external", **transport)
    assert caplog.records == []


def test_supported_kinds_do_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cpex.framework.models"):
        PluginConfig(name="p", kind="pkg.mod.Plugin")
        PluginConfig(name="iso", kind="isolated_venv", config={"class_name": "pkg.mod.Plugin"})
    assert caplog.records == []
