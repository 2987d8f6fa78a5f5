"""PLUGINS_* settings, the lightweight classes, the cached getters and the lazy wrapper (spec §6)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from cpex.framework import settings as settings_module
from cpex.framework.settings import (
    LazySettingsWrapper,
    PluginsClientMtlsSettings,
    PluginsCliSettings,
    PluginsEnabledSettings,
    PluginsGrpcServerSettings,
    PluginsHttpClientSettings,
    PluginsMcpServerSettings,
    PluginsSettings,
    PluginsStartupSettings,
    PluginsTransportSettings,
    get_settings,
    get_startup_settings,
    settings,
)

# (field, default) of PluginsSettings, from the table of spec §6.1.
DEFAULTS = {
    "enabled": False,
    "default_hook_policy": "allow",
    "config_file": "plugins/config.yaml",
    "log_level": "INFO",
    "skip_ssl_verify": False,
    "ssrf_protection_enabled": True,
    "plugin_timeout": 30,
    "fail_on_plugin_error": False,
    "execution_pool": 10,
    "httpx_max_connections": 200,
    "httpx_max_keepalive_connections": 100,
    "httpx_keepalive_expiry": 30.0,
    "httpx_connect_timeout": 5.0,
    "httpx_read_timeout": 120.0,
    "httpx_write_timeout": 30.0,
    "httpx_pool_timeout": 10.0,
    "cli_completion": False,
    "cli_markup_mode": None,
    "client_mtls_certfile": None,
    "client_mtls_keyfile": None,
    "client_mtls_ca_bundle": None,
    "client_mtls_keyfile_password": None,
    "client_mtls_verify": None,
    "client_mtls_check_hostname": None,
    "server_ssl_keyfile": None,
    "server_ssl_certfile": None,
    "server_ssl_ca_certs": None,
    "server_ssl_keyfile_password": None,
    "server_ssl_cert_reqs": None,
    "server_host": None,
    "server_port": None,
    "server_uds": None,
    "server_ssl_enabled": None,
    "config_path": None,
    "transport": None,
    "grpc_client_mtls_certfile": None,
    "grpc_client_mtls_keyfile": None,
    "grpc_client_mtls_ca_bundle": None,
    "grpc_client_mtls_keyfile_password": None,
    "grpc_client_mtls_verify": None,
    "grpc_server_ssl_keyfile": None,
    "grpc_server_ssl_certfile": None,
    "grpc_server_ssl_ca_certs": None,
    "grpc_server_ssl_keyfile_password": None,
    "grpc_server_ssl_client_auth": None,
    "grpc_server_host": None,
    "grpc_server_port": None,
    "grpc_server_uds": None,
    "grpc_server_ssl_enabled": None,
    "unix_socket_path": None,
    "metrics_enabled": True,  # cpex-go's extension (cpex.framework.metrics)
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No PLUGINS_* variable and no .env file: every test starts from the defaults."""
    for name in list(os.environ):
        if name.startswith("PLUGINS_") or name == "UNIX_SOCKET_PATH":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_full_settings_has_exactly_the_spec_fields_and_defaults() -> None:
    s = PluginsSettings()
    assert set(PluginsSettings.model_fields) == set(DEFAULTS)
    assert {name: getattr(s, name) for name in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ("PLUGINS_ENABLED", "enabled", True),
        ("PLUGINS_CONFIG_FILE", "config_file", "other.yaml"),
        ("PLUGINS_LOG_LEVEL", "log_level", "DEBUG"),
        ("PLUGINS_SKIP_SSL_VERIFY", "skip_ssl_verify", True),
        ("PLUGINS_SSRF_PROTECTION_ENABLED", "ssrf_protection_enabled", False),
        ("PLUGINS_PLUGIN_TIMEOUT", "plugin_timeout", 7),
        ("PLUGINS_FAIL_ON_PLUGIN_ERROR", "fail_on_plugin_error", True),
        ("PLUGINS_EXECUTION_POOL", "execution_pool", 0),
        ("PLUGINS_HTTPX_READ_TIMEOUT", "httpx_read_timeout", 1.5),
        ("PLUGINS_CLI_MARKUP_MODE", "cli_markup_mode", "rich"),
        ("PLUGINS_SERVER_PORT", "server_port", 9000),
        ("PLUGINS_SERVER_SSL_ENABLED", "server_ssl_enabled", True),
        ("PLUGINS_GRPC_SERVER_PORT", "grpc_server_port", 50052),
        ("PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH", "grpc_server_ssl_client_auth", "optional"),
        ("PLUGINS_CONFIG_PATH", "config_path", "/srv/plugins.yaml"),
        ("PLUGINS_TRANSPORT", "transport", "stdio"),
        ("PLUGINS_DEFAULT_HOOK_POLICY", "default_hook_policy", "deny"),
    ],
)
def test_env_overrides_full_settings(
    monkeypatch: pytest.MonkeyPatch, env: str, field: str, expected: object
) -> None:
    raw = {True: "true", False: "false"}.get(expected, str(expected)) if isinstance(expected, bool) else str(expected)
    monkeypatch.setenv(env, raw)
    assert getattr(PluginsSettings(), field) == expected


def test_secret_settings_are_secret_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD", "hunter2")
    value = PluginsSettings().client_mtls_keyfile_password
    assert isinstance(value, SecretStr) and value.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(PluginsSettings())


@pytest.mark.parametrize(
    "env",
    [
        "PLUGINS_CLIENT_MTLS_VERIFY",
        "PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME",
        "PLUGINS_SERVER_SSL_CERT_REQS",
        "PLUGINS_SERVER_PORT",
        "PLUGINS_SERVER_SSL_ENABLED",
        "PLUGINS_GRPC_CLIENT_MTLS_VERIFY",
        "PLUGINS_GRPC_SERVER_PORT",
        "PLUGINS_GRPC_SERVER_SSL_ENABLED",
    ],
)
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_optional_flags_and_numbers_mean_unset(monkeypatch: pytest.MonkeyPatch, env: str, blank: str) -> None:
    monkeypatch.setenv(env, blank)
    field = env.removeprefix("PLUGINS_").lower()
    assert getattr(PluginsSettings(), field) is None


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_DEFAULT_HOOK_POLICY", "maybe")
    with pytest.raises(ValidationError):
        PluginsSettings()


def test_a_malformed_unrelated_variable_does_not_break_the_light_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_SERVER_PORT", "abc")
    monkeypatch.setenv("PLUGINS_PLUGIN_TIMEOUT", "12")
    with pytest.raises(ValidationError):
        PluginsSettings()
    assert PluginsStartupSettings().plugin_timeout == 12
    assert settings.plugin_timeout == 12
    assert settings.config_file == "plugins/config.yaml"
    with pytest.raises(ValidationError):
        PluginsMcpServerSettings()


def test_light_class_field_sets() -> None:
    assert set(PluginsEnabledSettings.model_fields) == {"enabled"}
    assert set(PluginsStartupSettings.model_fields) == {
        "config_file",
        "plugin_timeout",
        "fail_on_plugin_error",
        "execution_pool",
    }
    assert set(PluginsTransportSettings.model_fields) == {"transport", "unix_socket_path"}
    assert set(PluginsHttpClientSettings.model_fields) == {
        "skip_ssl_verify",
        "httpx_max_connections",
        "httpx_max_keepalive_connections",
        "httpx_keepalive_expiry",
        "httpx_connect_timeout",
        "httpx_read_timeout",
        "httpx_write_timeout",
        "httpx_pool_timeout",
    }
    assert set(PluginsCliSettings.model_fields) == {"cli_completion", "cli_markup_mode"}
    assert set(PluginsClientMtlsSettings.model_fields) == {n for n in DEFAULTS if n.startswith("client_mtls_")}
    assert set(PluginsGrpcServerSettings.model_fields) == {n for n in DEFAULTS if n.startswith("grpc_server_")}


def test_unix_socket_path_alias_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIX_SOCKET_PATH", "/run/plain.sock")
    assert PluginsSettings().unix_socket_path == "/run/plain.sock"
    assert PluginsTransportSettings().unix_socket_path == "/run/plain.sock"
    monkeypatch.setenv("PLUGINS_UNIX_SOCKET_PATH", "/run/prefixed.sock")
    # The full class prefers the prefixed name, the transport class the plain one.
    assert PluginsSettings().unix_socket_path == "/run/prefixed.sock"
    assert PluginsTransportSettings().unix_socket_path == "/run/plain.sock"


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PLUGINS_PLUGIN_TIMEOUT=99\nPLUGINS_ENABLED=true\nUNRELATED=1\n", encoding="utf-8")
    assert PluginsSettings().plugin_timeout == 99
    assert settings.enabled is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" TRUE ", True), ("Yes", True), ("on", True), ("0", False), ("off", False),
     ("", False), ("enabled", False)],
)
def test_enabled_is_parsed_from_the_environment_on_every_access(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    assert settings.enabled is False
    monkeypatch.setenv("PLUGINS_ENABLED", raw)
    assert settings.enabled is expected  # no cache_clear needed


def test_wrapper_reads_through_caches_until_cache_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.plugin_timeout == 30
    assert settings.execution_pool == 10
    monkeypatch.setenv("PLUGINS_PLUGIN_TIMEOUT", "5")
    monkeypatch.setenv("PLUGINS_EXECUTION_POOL", "3")
    assert settings.plugin_timeout == 30  # cached
    settings.cache_clear()
    assert settings.plugin_timeout == 5
    assert settings.execution_pool == 3


def test_cache_clear_is_static_and_clears_every_getter(monkeypatch: pytest.MonkeyPatch) -> None:
    first_full, first_startup = get_settings(), get_startup_settings()
    assert get_settings() is first_full
    LazySettingsWrapper.cache_clear()
    assert get_settings() is not first_full
    assert get_startup_settings() is not first_startup
    getters = [getattr(settings_module, n) for n in dir(settings_module) if n.startswith("get_")]
    before = [g() for g in getters]
    settings.cache_clear()
    assert all(g() is not b for g, b in zip(getters, before, strict=True))


@pytest.mark.parametrize(
    ("prop", "env", "raw", "expected"),
    [
        ("fail_on_plugin_error", "PLUGINS_FAIL_ON_PLUGIN_ERROR", "true", True),
        ("config_file", "PLUGINS_CONFIG_FILE", "x.yaml", "x.yaml"),
        ("config_path", "PLUGINS_CONFIG_PATH", "/c.yaml", "/c.yaml"),
        ("default_hook_policy", "PLUGINS_DEFAULT_HOOK_POLICY", "deny", "deny"),
        ("ssrf_protection_enabled", "PLUGINS_SSRF_PROTECTION_ENABLED", "false", False),
        ("transport", "PLUGINS_TRANSPORT", "http", "http"),
        ("unix_socket_path", "PLUGINS_UNIX_SOCKET_PATH", "/s.sock", "/s.sock"),
        ("cli_completion", "PLUGINS_CLI_COMPLETION", "true", True),
        ("cli_markup_mode", "PLUGINS_CLI_MARKUP_MODE", "markdown", "markdown"),
    ],
)
def test_wrapper_properties(monkeypatch: pytest.MonkeyPatch, prop: str, env: str, raw: str, expected: object) -> None:
    monkeypatch.setenv(env, raw)
    assert getattr(settings, prop) == expected


def test_other_attributes_are_forwarded_to_the_full_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_HTTPX_MAX_CONNECTIONS", "7")
    monkeypatch.setenv("PLUGINS_LOG_LEVEL", "WARNING")
    assert settings.httpx_max_connections == 7
    assert settings.log_level == "WARNING"
    with pytest.raises(AttributeError):
        _ = settings.no_such_setting


def test_framework_settings_attribute_is_the_module() -> None:
    import cpex.framework

    assert cpex.framework.settings is settings_module
    assert isinstance(settings_module.settings, LazySettingsWrapper)
