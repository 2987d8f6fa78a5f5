"""The data model of the plugin framework: enums and pydantic v2 models (spec §3-§4).

Config models (``Config``, ``PluginConfig``, conditions, transports and TLS), the
objects exchanged with plugins (payload base, results, violations, contexts), execution
records, and the catalog models used by the tooling. Field names, types, defaults and
frozenness are part of the 0.1.x contract: hosts call ``model_copy``/``model_dump`` on
them and plugins construct them directly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import tempfile
from datetime import datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, List, Optional, TypeVar, Union

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from cpex.framework._fastmodels import payload_model_copy
from cpex.framework.constants import (  # noqa: F401 - URL..UDS: upstream exposes them here too
    CMD,
    CWD,
    ENV,
    EXTERNAL_PLUGIN_TYPE,
    IGNORE_CONFIG_EXTERNAL,
    ISOLATED_VENV_PLUGIN_TYPE,
    PYTHON_SUFFIX,
    SCRIPT,
    UDS,
    URL,
)
from cpex.framework.extensions import Extensions
from cpex.framework.extensions.tiers import Capability
from cpex.framework.settings import (
    get_client_mtls_settings,
    get_grpc_client_mtls_settings,
    get_grpc_server_settings,
    get_mcp_server_settings,
    get_transport_settings,
)
from cpex.framework.utils import normalize_content_type
from cpex.framework.validators import validate_plugin_url

logger = logging.getLogger(__name__)

T = TypeVar("T")


# ---------------------------------------------------------------------------- enums


class TransportType(str, Enum):
    """Transport of an external plugin."""

    SSE = "SSE"
    HTTP = "HTTP"
    STDIO = "STDIO"
    STREAMABLEHTTP = "STREAMABLEHTTP"
    GRPC = "GRPC"


class PluginMode(StrEnum):
    """How a plugin takes part in a hook chain (phase and powers, spec §11.3)."""

    FIRE_AND_FORGET = "fire_and_forget"
    CONCURRENT = "concurrent"
    SEQUENTIAL = "sequential"
    TRANSFORM = "transform"
    AUDIT = "audit"
    DISABLED = "disabled"


class OnError(StrEnum):
    """What the executor does when a plugin raises or times out."""

    FAIL = "fail"
    IGNORE = "ignore"
    DISABLE = "disable"


class ControlExecutionStatus(StrEnum):
    """Outcome of one plugin evaluation in an execution record.

    Only COMPLETED, ERROR and TIMEOUT are emitted; the others are reserved.
    """

    COMPLETED = "completed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DISABLED = "disabled"


class PluginInstallationType(StrEnum):
    """Where an installed plugin came from."""

    BUNDLED = "bundled"
    PYPI = "pypi"
    GIT = "git"
    MONOREPO = "monorepo"
    LOCAL = "local"


# ---------------------------------------------------------- templates / applied_to


class BaseTemplate(BaseModel):
    """What a plugin applies to, beyond the payload (carried, never interpreted)."""

    context: Optional[list[str]] = None
    extensions: Optional[dict[str, Any]] = None


class ToolTemplate(BaseTemplate):
    """A tool a plugin applies to."""

    tool_name: str
    fields: Optional[list[str]] = None
    result: bool = False


class PromptTemplate(BaseTemplate):
    """A prompt a plugin applies to."""

    prompt_name: str
    fields: Optional[list[str]] = None
    result: bool = False


class ResourceTemplate(BaseTemplate):
    """A resource a plugin applies to."""

    resource_uri: str
    fields: Optional[list[str]] = None
    result: bool = False


class AppliedTo(BaseModel):
    """Tools, prompts and resources a plugin declares it applies to (for the plugin's own use)."""

    tools: Optional[list[ToolTemplate]] = None
    prompts: Optional[list[PromptTemplate]] = None
    resources: Optional[list[ResourceTemplate]] = None


# ---------------------------------------------------------------------- conditions


class PluginCondition(BaseModel):
    """When a plugin runs: every non-empty field must match (conditions in a list are OR-ed).

    Empty sets and lists mean "no constraint". Matching is decided by the Go core in a
    hook run; :func:`cpex.framework.utils.payload_matches` implements it for hosts.
    """

    server_ids: Optional[set[str]] = None
    tenant_ids: Optional[set[str]] = None
    tools: Optional[set[str]] = None
    prompts: Optional[set[str]] = None
    resources: Optional[set[str]] = None
    agents: Optional[set[str]] = None
    user_patterns: Optional[list[str]] = None
    content_types: Optional[list[str]] = None

    @field_validator("content_types")
    @classmethod
    def normalize_content_types(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        # Compared against the request's normalised media type, so store them normalised.
        if not value:
            return value
        return [normalize_content_type(entry) for entry in value]

    @field_serializer("server_ids", "tenant_ids", "tools", "prompts", "resources", "agents")
    def serialize_set(self, value: Optional[set[str]]) -> Optional[list[str]]:
        return list(value) if value else None


# ------------------------------------------------------------------- TLS, transports


def _check_tls_file(value: Optional[str]) -> Optional[str]:
    if not value:
        return value
    expanded = Path(value).expanduser()
    if not expanded.is_file():
        raise ValueError(f"TLS file path does not exist: {value}")
    return str(expanded)


def _check_uds_path(value: Optional[str], owner: str) -> Optional[str]:
    """A Unix socket path: non-empty, absolute once resolved, in an existing directory.

    ``owner`` ("MCP server", "gRPC client", ...) prefixes the error messages.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{owner} uds must be a non-empty string.")
    resolved = Path(value).expanduser().resolve()
    if not resolved.is_absolute():
        raise ValueError(f"{owner} uds path must be absolute: {value}")
    parent = resolved.parent
    if not parent.is_dir():
        raise ValueError(f"{owner} uds parent directory does not exist: {parent}")
    try:
        if parent.stat().st_mode & stat.S_IWOTH:
            # Another local user could replace the socket: allowed, but worth a warning.
            logger.warning("%s uds parent directory %s is world-writable", owner, parent)
    except OSError:  # pragma: no cover - the directory existed a moment ago
        pass
    return str(resolved)


# Raised by every config that has both a socket path and TLS.
_UDS_TLS_ERROR = "TLS configuration is not supported for Unix domain sockets"


class MCPTransportTLSConfigBase(BaseModel):
    """Certificate files shared by the TLS configs; paths are ``~``-expanded and must exist."""

    certfile: Optional[str] = None
    keyfile: Optional[str] = None
    ca_bundle: Optional[str] = None
    keyfile_password: Optional[str] = None

    @field_validator("ca_bundle", "certfile", "keyfile")
    @classmethod
    def validate_path(cls, value: Optional[str]) -> Optional[str]:
        return _check_tls_file(value)

    @model_validator(mode="after")
    def validate_cert_key(self) -> MCPTransportTLSConfigBase:
        if self.keyfile and not self.certfile:
            raise ValueError("keyfile requires certfile to be specified")
        return self


def _env_data(**values: Any) -> dict[str, Any]:
    """The settings that are set (non-empty strings, non-None flags), secrets unwrapped."""
    data: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, SecretStr):
            data[key] = value.get_secret_value()
        elif isinstance(value, str):
            if value:
                data[key] = value
        elif value is not None:
            data[key] = value
    return data


class MCPClientTLSConfig(MCPTransportTLSConfigBase):
    """TLS of an MCP plugin client."""

    verify: bool = True
    check_hostname: bool = True

    @classmethod
    def from_env(cls) -> Optional[MCPClientTLSConfig]:
        """From ``PLUGINS_CLIENT_MTLS_*``; None when none of them is set."""
        s = get_client_mtls_settings()
        data = _env_data(
            certfile=s.client_mtls_certfile,
            keyfile=s.client_mtls_keyfile,
            ca_bundle=s.client_mtls_ca_bundle,
            keyfile_password=s.client_mtls_keyfile_password,
            verify=s.client_mtls_verify,
            check_hostname=s.client_mtls_check_hostname,
        )
        return cls(**data) if data else None


class MCPServerTLSConfig(MCPTransportTLSConfigBase):
    """TLS of an MCP plugin server; ``ssl_cert_reqs``: 0 none, 1 optional, 2 required."""

    ssl_cert_reqs: int = 2

    @classmethod
    def from_env(cls) -> Optional[MCPServerTLSConfig]:
        """From ``PLUGINS_SERVER_SSL_*``; None when none of them is set."""
        s = get_mcp_server_settings()
        data = _env_data(
            keyfile=s.server_ssl_keyfile,
            certfile=s.server_ssl_certfile,
            ca_bundle=s.server_ssl_ca_certs,
            keyfile_password=s.server_ssl_keyfile_password,
            ssl_cert_reqs=s.server_ssl_cert_reqs,
        )
        return cls(**data) if data else None


class MCPServerConfig(BaseModel):
    """Where an external MCP plugin server listens (TCP host/port or a Unix socket)."""

    host: str = "127.0.0.1"
    port: int = 8000
    uds: Optional[str] = None
    tls: Optional[MCPServerTLSConfig] = None

    @field_validator("uds")
    @classmethod
    def validate_uds(cls, value: Optional[str]) -> Optional[str]:
        return _check_uds_path(value, "MCP server")

    @model_validator(mode="after")
    def validate_uds_tls(self) -> MCPServerConfig:
        if self.uds and self.tls:
            raise ValueError(_UDS_TLS_ERROR + ".")
        return self

    @classmethod
    def from_env(cls) -> Optional[MCPServerConfig]:
        """From ``PLUGINS_SERVER_HOST/PORT/UDS`` (+ TLS when ``PLUGINS_SERVER_SSL_ENABLED``)."""
        s = get_mcp_server_settings()
        data = _env_data(host=s.server_host, port=s.server_port, uds=s.server_uds)
        if s.server_ssl_enabled:
            tls = MCPServerTLSConfig.from_env()
            if tls is not None:
                data["tls"] = tls
        return cls(**data) if data else None


class MCPClientConfig(BaseModel):
    """How to reach an external MCP plugin: a URL, a local script or command, or a socket."""

    proto: TransportType
    url: Optional[str] = None
    script: Optional[str] = None
    cmd: Optional[list[str]] = None
    env: Optional[dict[str, str]] = None
    cwd: Optional[str] = None
    uds: Optional[str] = None
    tls: Optional[MCPClientTLSConfig] = None
    reconnect_attempts: int = 3
    reconnect_delay: float = 0.1

    @field_validator("url")
    @classmethod
    def validate_url(cls, value: Optional[str]) -> Optional[str]:
        return validate_plugin_url(value) if value else value

    @field_validator("script")
    @classmethod
    def validate_script(cls, value: Optional[str]) -> Optional[str]:
        if not value:
            return value
        path = Path(value).expanduser()
        if not path.is_absolute():
            return value  # relative scripts are resolved when the server starts (against cwd)
        if not path.is_file():
            raise ValueError(f"MCP server script {value} does not exist.")
        if path.suffix not in (PYTHON_SUFFIX, ".sh") and not os.access(path, os.X_OK):
            raise ValueError(f"MCP server script {value} must be executable.")
        return value

    @field_validator("cmd")
    @classmethod
    def validate_cmd(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return None
        # Also called directly (as upstream allows), so the types are not guaranteed.
        if not isinstance(value, list) or not value:
            raise ValueError("MCP stdio cmd must be a non-empty list.")
        if not all(isinstance(part, str) and part.strip() for part in value):
            raise ValueError("MCP stdio cmd entries must be non-empty strings.")
        return value

    @field_validator("env")
    @classmethod
    def validate_env(cls, value: Optional[dict[str, str]]) -> Optional[dict[str, str]]:
        if value is None:
            return None
        if not isinstance(value, dict) or not value:
            raise ValueError("MCP stdio env must be a non-empty dict.")
        for key, entry in value.items():
            if not isinstance(key, str) or not key.strip():
                raise ValueError("MCP stdio env keys must be non-empty strings.")
            if not isinstance(entry, str):
                raise ValueError(f"MCP stdio env values must be strings (key {key!r} has {type(entry).__name__}).")
        return value

    @field_validator("cwd")
    @classmethod
    def validate_cwd(cls, value: Optional[str]) -> Optional[str]:
        if not value:
            return value
        path = Path(value).expanduser().resolve()
        if not path.is_dir():
            raise ValueError(f"MCP stdio cwd {value} does not exist or is not a directory.")
        return str(path)

    @field_validator("uds")
    @classmethod
    def validate_uds(cls, value: Optional[str]) -> Optional[str]:
        return _check_uds_path(value, "MCP client")

    @model_validator(mode="after")
    def validate_tls_usage(self) -> MCPClientConfig:
        if self.tls and self.proto not in (TransportType.SSE, TransportType.STREAMABLEHTTP):
            raise ValueError("TLS configuration is only valid for HTTP/SSE transports")
        if self.uds and self.tls:
            raise ValueError(_UDS_TLS_ERROR + ".")
        return self

    @model_validator(mode="after")
    def validate_transport_fields(self) -> MCPClientConfig:
        if self.proto == TransportType.STDIO and self.url:
            raise ValueError("URL is only valid for HTTP/SSE transports")
        if self.proto != TransportType.STDIO and (self.script or self.cmd or self.env or self.cwd):
            raise ValueError("script/cmd/env/cwd are only valid for STDIO transport")
        if self.proto != TransportType.STREAMABLEHTTP and self.uds:
            raise ValueError("uds is only valid for STREAMABLEHTTP transport")
        return self


class GRPCClientTLSConfig(MCPTransportTLSConfigBase):
    """TLS of a gRPC plugin client."""

    verify: bool = True

    @classmethod
    def from_env(cls) -> Optional[GRPCClientTLSConfig]:
        """From ``PLUGINS_GRPC_CLIENT_MTLS_*``; None when none of them is set."""
        s = get_grpc_client_mtls_settings()
        data = _env_data(
            certfile=s.grpc_client_mtls_certfile,
            keyfile=s.grpc_client_mtls_keyfile,
            ca_bundle=s.grpc_client_mtls_ca_bundle,
            keyfile_password=s.grpc_client_mtls_keyfile_password,
            verify=s.grpc_client_mtls_verify,
        )
        return cls(**data) if data else None


_GRPC_CLIENT_AUTH = ("none", "optional", "require")


class GRPCServerTLSConfig(MCPTransportTLSConfigBase):
    """TLS of a gRPC plugin server; ``client_auth`` is none, optional or require."""

    client_auth: str = "require"

    @field_validator("client_auth")
    @classmethod
    def validate_client_auth(cls, value: str) -> str:
        lowered = value.lower()
        if lowered not in _GRPC_CLIENT_AUTH:
            allowed = "{" + ", ".join(repr(v) for v in _GRPC_CLIENT_AUTH) + "}"
            raise ValueError(f"client_auth must be one of {allowed}, got '{value}'")
        return lowered

    @classmethod
    def from_env(cls) -> Optional[GRPCServerTLSConfig]:
        """From ``PLUGINS_GRPC_SERVER_SSL_*``; None when none of them is set."""
        s = get_grpc_server_settings()
        data = _env_data(
            keyfile=s.grpc_server_ssl_keyfile,
            certfile=s.grpc_server_ssl_certfile,
            ca_bundle=s.grpc_server_ssl_ca_certs,
            keyfile_password=s.grpc_server_ssl_keyfile_password,
            client_auth=s.grpc_server_ssl_client_auth,
        )
        return cls(**data) if data else None


class GRPCClientConfig(BaseModel):
    """How to reach a gRPC plugin: ``host:port`` target or Unix socket (exactly one)."""

    target: Optional[str] = None
    uds: Optional[str] = None
    tls: Optional[GRPCClientTLSConfig] = None

    @field_validator("target")
    @classmethod
    def validate_target(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        if not value:
            raise ValueError("gRPC target address cannot be empty")
        if ":" not in value:
            raise ValueError(f"gRPC target must be in host:port format, got '{value}'")
        return value

    @field_validator("uds")
    @classmethod
    def validate_uds(cls, value: Optional[str]) -> Optional[str]:
        return _check_uds_path(value, "gRPC client")

    @model_validator(mode="after")
    def validate_target_or_uds(self) -> GRPCClientConfig:
        if self.target is None and self.uds is None:
            raise ValueError("gRPC client must have either 'target' or 'uds' configured")
        if self.target is not None and self.uds is not None:
            raise ValueError("gRPC client cannot have both 'target' and 'uds' configured")
        if self.uds is not None and self.tls:
            raise ValueError(_UDS_TLS_ERROR)
        return self

    def get_target(self) -> str:
        """The gRPC target string: ``unix://<uds>`` or ``target``."""
        return f"unix://{self.uds}" if self.uds else (self.target or "")


class GRPCServerConfig(BaseModel):
    """Where an external gRPC plugin server listens."""

    host: str = "127.0.0.1"
    port: int = 50051
    uds: Optional[str] = None
    tls: Optional[GRPCServerTLSConfig] = None

    @field_validator("uds")
    @classmethod
    def validate_uds(cls, value: Optional[str]) -> Optional[str]:
        return _check_uds_path(value, "gRPC server")

    @model_validator(mode="after")
    def validate_uds_tls(self) -> GRPCServerConfig:
        if self.uds and self.tls:
            raise ValueError(_UDS_TLS_ERROR)
        return self

    def get_bind_address(self) -> str:
        """``unix://<uds>`` or ``host:port``."""
        return f"unix://{self.uds}" if self.uds else f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls) -> Optional[GRPCServerConfig]:
        """From ``PLUGINS_GRPC_SERVER_HOST/PORT/UDS`` (+ TLS when ``PLUGINS_GRPC_SERVER_SSL_ENABLED``)."""
        s = get_grpc_server_settings()
        data = _env_data(host=s.grpc_server_host, port=s.grpc_server_port, uds=s.grpc_server_uds)
        if s.grpc_server_ssl_enabled:
            tls = GRPCServerTLSConfig.from_env()
            if tls is not None:
                data["tls"] = tls
        return cls(**data) if data else None


class UnixSocketClientConfig(BaseModel):
    """How to reach a plugin over a raw Unix socket."""

    path: str
    reconnect_attempts: int = 3
    reconnect_delay: float = 0.1
    timeout: float = 30.0

    @field_validator("path")
    @classmethod
    def validate_path(cls, value: str) -> str:
        if not value:
            raise ValueError("Unix socket path cannot be empty")
        if not value.startswith("/"):
            raise ValueError(f"Unix socket path must be absolute, got '{value}'")
        return value


class UnixSocketServerConfig(BaseModel):
    """Where a Unix-socket plugin server listens."""

    path: str = "/tmp/mcpgateway-plugins.sock"  # noqa: S108 - upstream's default

    @classmethod
    def from_env(cls) -> Optional[UnixSocketServerConfig]:
        """From the transport settings' ``unix_socket_path``; None when it is not set."""
        path = get_transport_settings().unix_socket_path
        return cls(path=path) if path else None



# --------------------------------------------------------------------- plugin config

# Legacy mode names, rewritten before validation: name -> (mode, on_error or None).
_LEGACY_MODES: dict[str, tuple[str, Optional[str]]] = {
    "enforce": ("sequential", None),
    "enforce_ignore_error": ("sequential", "ignore"),
    "permissive": ("transform", None),
}

_CAPABILITY_VALUES = frozenset(c.value for c in Capability)

class PluginConfig(BaseModel):
    """One plugin entry of the config file (frozen: replace it with ``model_copy(update=...)``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: Optional[str] = None
    author: Optional[str] = None
    kind: str
    namespace: Optional[str] = None
    version: Optional[str] = None
    hooks: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    mode: PluginMode = PluginMode.SEQUENTIAL
    on_error: OnError = OnError.FAIL
    priority: int = 100
    max_content_size: int = 10_000_000
    conditions: list[PluginCondition] = Field(default_factory=list)
    applied_to: Optional[AppliedTo] = None
    capabilities: frozenset[str] = Field(default_factory=frozenset)
    config: Optional[dict[str, Any]] = None
    mcp: Optional[MCPClientConfig] = None
    grpc: Optional[GRPCClientConfig] = None
    unix_socket: Optional[UnixSocketClientConfig] = None

    @model_validator(mode="before")
    @classmethod
    def _migrate_legacy_modes(cls, data: Any) -> Any:
        # Rewrites the caller's dict in place, as upstream does.
        if isinstance(data, dict):
            mode = data.get("mode")
            if isinstance(mode, str) and not isinstance(mode, Enum) and mode in _LEGACY_MODES:
                new_mode, on_error = _LEGACY_MODES[mode]
                data["mode"] = new_mode
                if on_error is not None and "on_error" not in data:
                    data["on_error"] = on_error
        return data

    @field_validator("capabilities", mode="before")
    @classmethod
    def _validate_capabilities(cls, value: Any) -> frozenset[str]:
        if not isinstance(value, (list, set, frozenset)):
            return frozenset()
        names: set[str] = set()
        for entry in value:
            name = entry.value if isinstance(entry, Enum) else entry
            if name not in _CAPABILITY_VALUES:
                raise ValueError(f"Unknown capability: {entry!r}. Known: {sorted(_CAPABILITY_VALUES)}")
            names.add(str(name))
        return frozenset(names)

    @field_serializer("capabilities")
    def serialize_capabilities(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    @model_validator(mode="after")
    def check_url_or_script_filled(self) -> PluginConfig:
        mcp = self.mcp
        if mcp is None:
            return self
        if mcp.proto == TransportType.STDIO:
            if not (mcp.script or mcp.cmd):
                raise ValueError(f"Plugin {self.name} has transport type set to STDIO but no script/cmd value")
            if mcp.script and mcp.cmd:
                raise ValueError(f"Plugin {self.name} must set either script or cmd for STDIO, not both")
        elif mcp.proto in (TransportType.STREAMABLEHTTP, TransportType.SSE):
            if not mcp.url:
                raise ValueError(f"Plugin {self.name} has transport type set to StreamableHTTP but no url value")
        else:
            raise ValueError(f"Plugin {self.name} must set transport type to either SSE or STREAMABLEHTTP or STDIO")
        return self

    @model_validator(mode="after")
    def check_config_and_external(self, info: ValidationInfo) -> PluginConfig:
        if self.kind != EXTERNAL_PLUGIN_TYPE:
            return self
        context = info.context if isinstance(info.context, dict) else {}
        if self.config and not context.get(IGNORE_CONFIG_EXTERNAL):
            raise ValueError(
                f"Cannot have {self.name} plugin defined as 'external' with 'config' set."
                " 'config' section settings can only be set on the plugin server."
            )
        transports = sum(getattr(self, name) is not None for name in ("mcp", "grpc", "unix_socket"))
        if transports == 0:
            raise ValueError(f"External plugin {self.name} must have 'mcp', 'grpc', or 'unix_socket' section configured")
        if transports > 1:
            raise ValueError(
                f"External plugin {self.name} can only have one transport configured (mcp, grpc, or unix_socket)"
            )
        return self

    def to_json(self) -> dict[str, Any]:
        """The config as JSON-ready data (``model_dump(mode="json")``)."""
        return self.model_dump(mode="json")

    def get_safe_config(self) -> str:
        """The config as a JSON string."""
        return orjson.dumps(self.to_json()).decode()


class Config(BaseModel):
    """The whole config document; unknown top-level keys (``plugin_settings``) are ignored."""

    model_config = ConfigDict(extra="ignore")

    plugins: Optional[list[PluginConfig]] = Field(default_factory=list)
    plugin_dirs: list[str] = Field(default_factory=list)
    server_settings: Optional[MCPServerConfig] = None
    grpc_server_settings: Optional[GRPCServerConfig] = None
    unix_socket_server_settings: Optional[UnixSocketServerConfig] = None


# ------------------------------------------------------------------ catalog models

_PYPI_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")
_VERSION_SPECIFIER = re.compile(r"^(==|!=|<=|>=|<|>|~=|===)\s*\d+(\.\d+)*([a-zA-Z0-9._-]*)?$")
_GIT_URL = re.compile(r"^(https?://|git://|git@)[a-zA-Z0-9._-]+(/|:)[a-zA-Z0-9._/-]+(\.git)?$")
_GIT_REF = re.compile(r"^[a-zA-Z0-9._/-]+$")


def _check_pypi_package(value: Optional[str]) -> Optional[str]:
    if value is None or value == "":
        return None  # "" means "not given"
    if not value.strip():
        raise ValueError("PyPI package name cannot be empty or whitespace")
    if not _PYPI_NAME.match(value):
        raise ValueError(
            f"Invalid PyPI package name '{value}'. Package names must start and end with a letter or number, "
            "and can only contain ASCII letters, numbers, hyphens, underscores, and periods."
        )
    if len(value) > 214:
        raise ValueError(f"PyPI package name '{value}' exceeds maximum length of 214 characters")
    return value


def _check_version_constraint(value: Optional[str]) -> Optional[str]:
    if value is None or value == "":
        return None
    if not value.strip():
        raise ValueError("Version constraint cannot be empty or whitespace")
    for part in (p.strip() for p in value.split(",")):
        if not part:
            raise ValueError("Version constraint cannot contain empty parts")
        if not _VERSION_SPECIFIER.match(part):
            raise ValueError(
                f"Invalid version constraint '{part}'. "
                "Must follow PEP 440 format (e.g., '>=1.0.0', '~=1.2.3', '==1.0.0,<2.0.0')"
            )
    if len(value) > 255:
        raise ValueError(f"Version constraint '{value}' exceeds maximum length of 255 characters")
    return value


def _check_git_repository(value: Optional[str]) -> Optional[str]:
    if value is None or value == "":
        return None
    if not value.strip():
        raise ValueError("Git repository URL cannot be empty or whitespace")
    if not _GIT_URL.match(value):
        raise ValueError(
            f"Invalid Git repository URL '{value}'. "
            "Must be a valid Git URL (e.g., https://github.com/user/repo.git, git@github.com:user/repo.git)"
        )
    if value.startswith(("http://", "https://")):
        validate_plugin_url(value, "Git repository URL")
    return value


def _check_git_ref(value: Optional[str]) -> Optional[str]:
    if value is None or value == "":
        return None
    if not value.strip():
        raise ValueError("Git branch/tag/commit cannot be empty or whitespace")
    if not _GIT_REF.match(value):
        raise ValueError(
            f"Invalid Git branch/tag/commit '{value}'. "
            "Must contain only alphanumeric characters, hyphens, underscores, slashes, and periods."
        )
    if value.startswith(("/", ".", "-")) or value.endswith(("/", ".")):
        raise ValueError(f"Invalid Git branch/tag/commit '{value}'. Cannot start with /, ., or - or end with / or .")
    if len(value) > 255:
        raise ValueError(f"Git branch/tag/commit '{value}' exceeds maximum length of 255 characters")
    return value


class Monorepo(BaseModel):
    """A plugin living in a folder of a larger repository."""

    repo_url: str
    package_source: str
    package_folder: str


class PyPiRepo(BaseModel):
    """A plugin published on PyPI."""

    pypi_package: str
    version_constraint: Optional[str] = None

    @field_validator("pypi_package")
    @classmethod
    def validate_pypi_package(cls, value: str) -> Optional[str]:
        return _check_pypi_package(value)

    @field_validator("version_constraint")
    @classmethod
    def validate_version_constraint(cls, value: Optional[str]) -> Optional[str]:
        return _check_version_constraint(value)


class GitRepo(BaseModel):
    """A plugin installed from a git repository at a branch, tag or commit."""

    git_repository: str
    git_branch_tag_commit: Optional[str]

    @field_validator("git_repository")
    @classmethod
    def validate_git_repository(cls, value: str) -> Optional[str]:
        return _check_git_repository(value)

    @field_validator("git_branch_tag_commit")
    @classmethod
    def validate_git_branch_tag_commit(cls, value: Optional[str]) -> Optional[str]:
        return _check_git_ref(value)


class PluginManifest(BaseModel):
    """A plugin's published description: identity, hooks, default config and origin."""

    name: str
    kind: str
    description: str
    author: str
    version: str
    tags: list[str]
    available_hooks: list[str]
    default_config: dict[str, Any]
    monorepo: Optional[Monorepo] = None
    package_info: Optional[PyPiRepo] = None
    local: Optional[str] = None
    git_repo: Optional[GitRepo] = None

    def suggest_instance_name(self) -> str:
        """A config-friendly instance name: lower case, spaces replaced by dashes."""
        return self.name.lower().replace(" ", "-")

    def create_instance_config(
        self,
        instance_name: str,
        mode: PluginMode,
        priority: int = 100,
        config: Optional[dict[str, Any]] = None,
    ) -> PluginConfig:
        """A PluginConfig entry for this plugin, its default config updated by ``config``."""
        merged = dict(self.default_config)
        if config:
            merged.update(config)
        return PluginConfig(
            name=instance_name,
            kind=self.kind,
            description=self.description,
            author=self.author,
            version=self.version,
            tags=list(self.tags),
            hooks=list(self.available_hooks),
            mode=mode,
            priority=priority,
            config=merged,
        )


class PluginPackageInfo(BaseModel):
    """Where to install a plugin package from (PyPI or git)."""

    pypi_package: Optional[str] = None
    git_repository: Optional[str] = None
    git_branch_tag_commit: Optional[str] = None
    version_constraint: Optional[str] = None

    @field_validator("pypi_package")
    @classmethod
    def validate_pypi_package(cls, value: Optional[str]) -> Optional[str]:
        return _check_pypi_package(value)

    @field_validator("git_repository")
    @classmethod
    def validate_git_repository(cls, value: Optional[str]) -> Optional[str]:
        return _check_git_repository(value)

    @field_validator("git_branch_tag_commit")
    @classmethod
    def validate_git_branch_tag_commit(cls, value: Optional[str]) -> Optional[str]:
        return _check_git_ref(value)

    @field_validator("version_constraint")
    @classmethod
    def validate_version_constraint(cls, value: Optional[str]) -> Optional[str]:
        return _check_version_constraint(value)

    @model_validator(mode="after")
    def validate_installation_method(self) -> PluginPackageInfo:
        if not self.pypi_package and not self.git_repository:
            raise ValueError(
                "At least one installation method must be specified: either 'pypi_package' or 'git_repository'"
            )
        if self.git_branch_tag_commit and not self.git_repository:
            raise ValueError("'git_branch_tag_commit' can only be specified when 'git_repository' is provided")
        return self


class PluginVersionInfo(BaseModel):
    """One published version of a plugin and the framework versions it supports."""

    version: str
    released: str
    breaking_changes: Optional[bool] = None
    deprecated: bool = False
    manifest_file: str
    changelog: Optional[str] = None
    min_max_framework_version: Optional[str] = "0.1.0,0.1.0"


class PluginVersionRegistry(BaseModel):
    """The published versions of a plugin."""

    latest: Optional[PluginVersionInfo] = None
    latest_prerelease: Optional[PluginVersionInfo] = None
    versions: List[PluginVersionInfo]

    def get_version(self) -> Optional[PluginVersionInfo]:
        """The latest version."""
        return self.latest

    def get_latest_compatible(self, framework_version: str) -> Optional[PluginVersionInfo]:
        """The highest version whose inclusive ``min,max`` framework range contains ``framework_version``.

        Versions without a well-formed range are skipped; an invalid ``framework_version``
        gives None (with a warning).
        """
        from packaging.version import InvalidVersion, Version

        try:
            current = Version(framework_version)
        except InvalidVersion:
            logger.warning("Invalid framework version format: %s", framework_version)
            return None
        compatible: list[PluginVersionInfo] = []
        for info in self.versions:
            bounds = (info.min_max_framework_version or "").split(",")
            if len(bounds) != 2:
                continue
            try:
                low, high = Version(bounds[0].strip()), Version(bounds[1].strip())
            except InvalidVersion:
                continue
            if low <= current <= high:
                compatible.append(info)
        if not compatible:
            return None
        try:
            return max(compatible, key=lambda info: Version(info.version))
        except InvalidVersion:
            return compatible[0]  # unorderable versions: keep the first compatible one


class InstalledPluginInfo(BaseModel):
    """A plugin installed on this machine."""

    name: str
    kind: str
    version: Optional[str] = None
    installation_type: PluginInstallationType
    installation_path: str
    installed_at: str
    installed_by: str
    package_source: Optional[str] = None
    editable: bool = False


def _plugin_registry_path() -> Path:
    """Where the installed-plugin registry lives (the tooling's setting when available)."""
    try:
        from cpex.tools.settings import get_plugin_registry_path
    except ImportError:
        return Path(os.environ.get("PLUGIN_REGISTRY_FILE", "data")) / "installed-plugins.json"
    return Path(get_plugin_registry_path())


class InstalledPluginRegistry(BaseModel):
    """The installed plugins, persisted as JSON."""

    plugins: List[InstalledPluginInfo] = Field(default_factory=list)

    def register_plugin(self, plugin: InstalledPluginInfo) -> None:
        """Add ``plugin``, replacing any entry of the same name, and save."""
        self.plugins = [p for p in self.plugins if p.name != plugin.name]
        self.plugins.append(plugin)
        self.save()

    def unregister_plugin(self, name: str) -> bool:
        """Remove the entry named ``name``; saves and returns True when one was removed."""
        kept = [p for p in self.plugins if p.name != name]
        if len(kept) == len(self.plugins):
            return False
        self.plugins = kept
        self.save()
        return True

    def save(self) -> None:
        """Write the registry atomically (temporary file, then rename)."""
        path = _plugin_registry_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(self.model_dump(), option=orjson.OPT_INDENT_2)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="installed-plugins.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --------------------------------------------------------------- execution records

_MAX_STRING_LEN = 256
_MAX_CONFIG_KEYS = 64
_ELLIPSIS = "…"
_ELLIPSIS_BYTES = len(_ELLIPSIS.encode("utf-8"))


def _truncate(s: str, max_len: int = _MAX_STRING_LEN) -> str:
    """``s`` cut so that its UTF-8 encoding plus an ellipsis fits ``max_len`` bytes."""
    encoded = s.encode("utf-8")
    if len(encoded) <= max_len:
        return s
    # Cutting a valid encoding can only leave an incomplete *last* character: drop it.
    head = encoded[: max(max_len - _ELLIPSIS_BYTES, 0)].decode("utf-8", errors="ignore")
    return head + _ELLIPSIS


def _truncate_opt(s: Optional[str]) -> Optional[str]:
    """:func:`_truncate`, passing None through."""
    return None if s is None else _truncate(s)


def _collect_config_keys(config: Any) -> list[str]:
    """The first 64 key names of a plugin's config dict (values are never recorded)."""
    if not isinstance(config, dict):
        return []
    keys: list[str] = []
    for key in config:
        if len(keys) >= _MAX_CONFIG_KEYS:
            break
        keys.append(_truncate(str(key)))
    return keys


class ControlExecutionRecord(BaseModel):
    """What one plugin did in one hook run (built by the Go core from trusted facts)."""

    plugin_id: str
    plugin_name: str
    plugin_kind: str
    hook_name: str
    mode: PluginMode
    status: ControlExecutionStatus
    requested_allow: Optional[bool] = None
    effective_allow: bool = True
    matched: Optional[bool] = None
    applied: bool = False
    payload_modified: bool = False
    extensions_modified: bool = False
    duration_ns: int = 0
    reason: Optional[str] = None
    error_code: Optional[str] = None
    config_keys: list[str] = Field(default_factory=list)


# ------------------------------------------------- errors, violations, results, contexts


class PluginErrorModel(BaseModel):
    """A plugin failure as data (carried by :class:`cpex.framework.errors.PluginError`)."""

    message: str
    plugin_name: str
    code: Optional[str] = ""
    details: Optional[dict[str, Any]] = Field(default_factory=dict)
    mcp_error_code: int = -32603


class PluginViolation(BaseModel):
    """Why a plugin blocked a request.

    ``plugin_name`` is a private attribute stamped by the executor; it is not part of
    ``model_dump()``/JSON, so it does not survive serialisation.
    """

    reason: str
    description: str
    code: str
    details: Optional[dict[str, Any]] = Field(default_factory=dict)
    _plugin_name: str = PrivateAttr(default="")
    mcp_error_code: Optional[int] = None
    http_status_code: Optional[int] = None
    http_headers: Optional[dict[str, str]] = None

    @property
    def plugin_name(self) -> str:
        """Name of the plugin that raised the violation ("" until stamped)."""
        return self._plugin_name

    @plugin_name.setter
    def plugin_name(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("Name must be a non-empty string.")
        self._plugin_name = name


class UserContext(BaseModel):
    """The authenticated user of a request, as the host resolved it."""

    user_id: str
    email: Optional[str] = None
    full_name: Optional[str] = None
    is_admin: bool = False
    groups: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    team_id: Optional[str] = None
    teams: Optional[list[str]] = None
    department: Optional[str] = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    auth_method: Optional[str] = None
    authenticated_at: Optional[datetime] = None
    service_account: Optional[str] = None
    delegation_chain: list[str] = Field(default_factory=list)


class PluginResult(BaseModel, Generic[T]):
    """What a plugin returns, and what ``invoke_hook`` returns for a whole chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    continue_processing: bool = True
    modified_payload: Optional[T] = None
    modified_extensions: Optional[Extensions] = None
    violation: Optional[PluginViolation] = None
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)
    # Opt-in numeric telemetry about a denial; only what
    # cpex.framework.errors.sanitize_denial_metadata keeps ever reaches a DenialOutcome.
    denial_metadata: Optional[dict[str, Any]] = None
    background_tasks: list[asyncio.Task] = Field(default_factory=list, exclude=True)
    http_headers: Optional[dict[str, str]] = None
    retry_delay_ms: int = 0
    executions: list[ControlExecutionRecord] = Field(default_factory=list)

    async def wait_for_background_tasks(self) -> list[PluginErrorModel]:
        """Await the fire-and-forget tasks; the errors they reported (exceptions are swallowed)."""
        if not self.background_tasks:
            return []
        outcomes = await asyncio.gather(*self.background_tasks, return_exceptions=True)
        return [outcome for outcome in outcomes if isinstance(outcome, PluginErrorModel)]


_MAX_CONTENT_TYPE_LEN = 200


class GlobalContext(BaseModel):
    """Per-request context shared by every plugin of every hook of that request (mutable)."""

    request_id: str
    user: Optional[Union[str, dict[str, Any]]] = None
    user_context: Optional[UserContext] = None
    tenant_id: Optional[str] = None
    server_id: Optional[str] = None
    content_type: Optional[str] = None
    state: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("content_type")
    @classmethod
    def validate_content_type(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        if len(value) > _MAX_CONTENT_TYPE_LEN:
            raise ValueError("Content-Type header too long")
        if not value.isprintable():
            raise ValueError("Content-Type contains invalid characters")
        return value


class PluginContext(BaseModel):
    """One plugin's private context within a request, plus its view of the global context."""

    state: dict[str, Any] = Field(default_factory=dict)
    global_context: GlobalContext
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def user_context(self) -> Optional[UserContext]:
        """The request's UserContext, if the host set one."""
        return self.global_context.user_context

    @property
    def user_email(self) -> Optional[str]:
        """The user's email: from the UserContext when present, else from ``global_context.user``."""
        user_context = self.global_context.user_context
        if user_context is not None:
            return user_context.email
        user = self.global_context.user
        if isinstance(user, str):
            return user
        if isinstance(user, dict):
            return user.get("email")
        return None

    @property
    def user_groups(self) -> list[str]:
        """The user's groups from the UserContext (empty without one)."""
        user_context = self.global_context.user_context
        return user_context.groups if user_context is not None else []

    def get_state(self, key: str, default: Any = None) -> Any:
        """A value of this plugin's private state."""
        return self.state.get(key, default)

    def set_state(self, key: str, value: Any) -> None:
        """Set a value of this plugin's private state."""
        self.state[key] = value

    async def cleanup(self) -> None:
        """Forget this plugin's state and metadata."""
        self.state.clear()
        self.metadata.clear()

    def is_empty(self) -> bool:
        """Whether the private state, the metadata and the global state are all empty."""
        return not (self.state or self.metadata or self.global_context.state)


PluginContextTable = dict[str, PluginContext]


class PluginPayload(BaseModel):
    """Base class of every hook payload (frozen; nested containers stay mutable)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    if not TYPE_CHECKING:
        # plugins copy their payload with an update on every call that modifies it: the
        # object pydantic's model_copy builds, without its detours (_fastmodels.py)
        model_copy = payload_model_copy
