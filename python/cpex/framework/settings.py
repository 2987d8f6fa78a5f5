"""Runtime settings of the plugin framework, read from ``PLUGINS_*`` variables (spec §6).

Every class reads the environment (and a ``.env`` file in the working directory) with
the prefix ``PLUGINS_``. The small classes each hold one group of fields, so that a
caller needing, say, the startup settings is not broken by a malformed variable of an
unrelated group (``PLUGINS_SERVER_PORT=abc``); :class:`PluginsSettings` holds them all.
Each group is defined once, in its small class; the full class inherits the groups.

``settings`` is the lazy facade most code uses; ``settings.cache_clear()`` forgets every
cached instance so that changed variables are read again.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_TRUE_STRINGS = frozenset({"1", "true", "yes", "on"})


def _blank_to_none(value: Any) -> Any:
    """An empty or blank variable means "not set" rather than an invalid bool/int."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Optional flags and numbers that deployments commonly export as empty strings.
_OptionalBool = Annotated[Optional[bool], BeforeValidator(_blank_to_none)]
_OptionalInt = Annotated[Optional[int], BeforeValidator(_blank_to_none)]


class _PluginsEnv(BaseSettings):
    """Shared environment configuration of every settings class."""

    model_config = SettingsConfigDict(
        env_prefix="PLUGINS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    @classmethod
    def empty_string_to_none(cls, value: Any) -> Any:
        """The blank-means-unset rule of the optional fields (upstream exposes it as a classmethod)."""
        return _blank_to_none(value)


class PluginsEnabledSettings(_PluginsEnv):
    """Whether the plugin framework is enabled at all."""

    enabled: bool = False


class PluginsPolicySettings(_PluginsEnv):
    """What happens to payload modifications for hooks without an explicit policy."""

    default_hook_policy: Literal["allow", "deny"] = "allow"


class PluginsStartupSettings(_PluginsEnv):
    """What a manager needs to start: config file, timeout, error handling, concurrency."""

    config_file: str = "plugins/config.yaml"
    plugin_timeout: int = 30
    fail_on_plugin_error: bool = False
    execution_pool: int = 10


class PluginsSsrfSettings(_PluginsEnv):
    """Whether plugin URLs pointing at private addresses are rejected."""

    ssrf_protection_enabled: bool = True


class PluginsHttpClientSettings(_PluginsEnv):
    """HTTP client limits and timeouts used by remote plugin transports."""

    skip_ssl_verify: bool = False
    httpx_max_connections: int = 200
    httpx_max_keepalive_connections: int = 100
    httpx_keepalive_expiry: float = 30.0
    httpx_connect_timeout: float = 5.0
    httpx_read_timeout: float = 120.0
    httpx_write_timeout: float = 30.0
    httpx_pool_timeout: float = 10.0


class PluginsCliSettings(_PluginsEnv):
    """Behaviour of the command-line tools."""

    cli_completion: bool = False
    cli_markup_mode: Optional[Literal["markdown", "rich", "disabled"]] = None


class PluginsClientMtlsSettings(_PluginsEnv):
    """Client certificates for MCP plugin connections."""

    client_mtls_certfile: Optional[str] = None
    client_mtls_keyfile: Optional[str] = None
    client_mtls_ca_bundle: Optional[str] = None
    client_mtls_keyfile_password: Optional[SecretStr] = None
    client_mtls_verify: _OptionalBool = None
    client_mtls_check_hostname: _OptionalBool = None


class PluginsMcpServerSettings(_PluginsEnv):
    """Listening address and TLS of an external MCP plugin server."""

    server_ssl_keyfile: Optional[str] = None
    server_ssl_certfile: Optional[str] = None
    server_ssl_ca_certs: Optional[str] = None
    server_ssl_keyfile_password: Optional[SecretStr] = None
    server_ssl_cert_reqs: _OptionalInt = None
    server_host: Optional[str] = None
    server_port: _OptionalInt = None
    server_uds: Optional[str] = None
    server_ssl_enabled: _OptionalBool = None


class PluginsConfigPathSettings(_PluginsEnv):
    """Config file of an external plugin server."""

    config_path: Optional[str] = None


class PluginsTransportSettings(_PluginsEnv):
    """Transport of the external plugin server runtime."""

    transport: Optional[str] = None
    # The unprefixed name wins here; the full settings class prefers the prefixed one.
    unix_socket_path: Optional[str] = Field(
        default=None, validation_alias=AliasChoices("UNIX_SOCKET_PATH", "PLUGINS_UNIX_SOCKET_PATH")
    )


class PluginsGrpcClientMtlsSettings(_PluginsEnv):
    """Client certificates for gRPC plugin connections."""

    grpc_client_mtls_certfile: Optional[str] = None
    grpc_client_mtls_keyfile: Optional[str] = None
    grpc_client_mtls_ca_bundle: Optional[str] = None
    grpc_client_mtls_keyfile_password: Optional[SecretStr] = None
    grpc_client_mtls_verify: _OptionalBool = None


class PluginsGrpcServerSettings(_PluginsEnv):
    """Listening address and TLS of an external gRPC plugin server."""

    grpc_server_ssl_keyfile: Optional[str] = None
    grpc_server_ssl_certfile: Optional[str] = None
    grpc_server_ssl_ca_certs: Optional[str] = None
    grpc_server_ssl_keyfile_password: Optional[SecretStr] = None
    grpc_server_ssl_client_auth: Optional[str] = None
    grpc_server_host: Optional[str] = None
    grpc_server_port: _OptionalInt = None
    grpc_server_uds: Optional[str] = None
    grpc_server_ssl_enabled: _OptionalBool = None


class PluginsMetricsSettings(_PluginsEnv):
    """Per-plugin Prometheus metrics (a cpex-go extension; upstream has no such setting).

    When on (the default: the measured cost is within the benchmarks' noise, README
    "Metrics"), the core counts every plugin call and a collector joins
    prometheus_client's default registry (cpex.framework.metrics), so the host's
    /metrics shows the ``cpex_plugin_*`` and ``cpex_hook_*`` series.
    """

    metrics_enabled: bool = True


class PluginsSettings(
    # pydantic collects fields along the reversed MRO: the last base's fields come first.
    PluginsMetricsSettings,
    PluginsGrpcServerSettings,
    PluginsGrpcClientMtlsSettings,
    PluginsTransportSettings,
    PluginsConfigPathSettings,
    PluginsMcpServerSettings,
    PluginsClientMtlsSettings,
    PluginsCliSettings,
    PluginsHttpClientSettings,
    PluginsSsrfSettings,
    PluginsStartupSettings,
    PluginsPolicySettings,
    PluginsEnabledSettings,
):
    """Every plugin framework setting, fully validated."""

    log_level: str = "INFO"
    unix_socket_path: Optional[str] = Field(
        default=None, validation_alias=AliasChoices("PLUGINS_UNIX_SOCKET_PATH", "UNIX_SOCKET_PATH")
    )


@lru_cache
def get_settings() -> PluginsSettings:
    """The full settings (cached)."""
    return PluginsSettings()


@lru_cache
def get_enabled_settings() -> PluginsEnabledSettings:
    """The enable flag (cached)."""
    return PluginsEnabledSettings()


@lru_cache
def get_startup_settings() -> PluginsStartupSettings:
    """Config file, timeout, fail_on_plugin_error, execution pool (cached)."""
    return PluginsStartupSettings()


@lru_cache
def get_config_path_settings() -> PluginsConfigPathSettings:
    """The external server's config path (cached)."""
    return PluginsConfigPathSettings()


@lru_cache
def get_policy_settings() -> PluginsPolicySettings:
    """The default hook policy (cached)."""
    return PluginsPolicySettings()


@lru_cache
def get_ssrf_settings() -> PluginsSsrfSettings:
    """The SSRF protection flag (cached)."""
    return PluginsSsrfSettings()


@lru_cache
def get_transport_settings() -> PluginsTransportSettings:
    """Transport and Unix socket path (cached)."""
    return PluginsTransportSettings()


@lru_cache
def get_client_mtls_settings() -> PluginsClientMtlsSettings:
    """MCP client mTLS settings (cached)."""
    return PluginsClientMtlsSettings()


@lru_cache
def get_mcp_server_settings() -> PluginsMcpServerSettings:
    """MCP server settings (cached)."""
    return PluginsMcpServerSettings()


@lru_cache
def get_grpc_client_mtls_settings() -> PluginsGrpcClientMtlsSettings:
    """gRPC client mTLS settings (cached)."""
    return PluginsGrpcClientMtlsSettings()


@lru_cache
def get_http_client_settings() -> PluginsHttpClientSettings:
    """HTTP client settings (cached)."""
    return PluginsHttpClientSettings()


@lru_cache
def get_cli_settings() -> PluginsCliSettings:
    """CLI settings (cached)."""
    return PluginsCliSettings()


@lru_cache
def get_grpc_server_settings() -> PluginsGrpcServerSettings:
    """gRPC server settings (cached)."""
    return PluginsGrpcServerSettings()


@lru_cache
def get_metrics_settings() -> PluginsMetricsSettings:
    """The metrics flag (cached)."""
    return PluginsMetricsSettings()


_CACHED_GETTERS: tuple[Callable[[], Any], ...] = (
    get_settings,
    get_enabled_settings,
    get_startup_settings,
    get_config_path_settings,
    get_policy_settings,
    get_ssrf_settings,
    get_transport_settings,
    get_client_mtls_settings,
    get_mcp_server_settings,
    get_grpc_client_mtls_settings,
    get_http_client_settings,
    get_cli_settings,
    get_grpc_server_settings,
    get_metrics_settings,
)


class LazySettingsWrapper:
    """Reads each setting from the smallest settings class that holds it, on first use.

    ``enabled`` is re-read from ``PLUGINS_ENABLED`` on every access when the variable is
    set, so that a process can switch plugins on or off without clearing caches. Any
    attribute not listed here comes from the full :class:`PluginsSettings`.
    """

    @staticmethod
    def _parse_bool(value: str) -> bool:
        """Whether an environment string means "on" (1, true, yes, on; any case)."""
        return value.strip().lower() in _TRUE_STRINGS

    @property
    def enabled(self) -> bool:
        raw = os.environ.get("PLUGINS_ENABLED")
        if raw is not None:
            return self._parse_bool(raw)
        return get_enabled_settings().enabled

    @property
    def config_file(self) -> str:
        return get_startup_settings().config_file

    @property
    def plugin_timeout(self) -> int:
        return get_startup_settings().plugin_timeout

    @property
    def fail_on_plugin_error(self) -> bool:
        return get_startup_settings().fail_on_plugin_error

    @property
    def execution_pool(self) -> int:
        return get_startup_settings().execution_pool

    @property
    def config_path(self) -> Optional[str]:
        return get_config_path_settings().config_path

    @property
    def default_hook_policy(self) -> Literal["allow", "deny"]:
        return get_policy_settings().default_hook_policy

    @property
    def ssrf_protection_enabled(self) -> bool:
        return get_ssrf_settings().ssrf_protection_enabled

    @property
    def transport(self) -> Optional[str]:
        return get_transport_settings().transport

    @property
    def unix_socket_path(self) -> Optional[str]:
        return get_transport_settings().unix_socket_path

    @property
    def cli_completion(self) -> bool:
        return get_cli_settings().cli_completion

    @property
    def cli_markup_mode(self) -> Optional[Literal["markdown", "rich", "disabled"]]:
        return get_cli_settings().cli_markup_mode

    @property
    def metrics_enabled(self) -> bool:
        return get_metrics_settings().metrics_enabled

    @property
    def metrics_enabled_explicit(self) -> bool:
        """Whether PLUGINS_METRICS_ENABLED was set (not the default)."""
        return "metrics_enabled" in get_metrics_settings().model_fields_set

    @staticmethod
    def cache_clear() -> None:
        """Forget every cached settings instance (the next access re-reads the environment)."""
        for getter in _CACHED_GETTERS:
            getter.cache_clear()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not properties above.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(get_settings(), name)


settings = LazySettingsWrapper()
