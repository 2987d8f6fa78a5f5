"""HTTP hook types and payloads (spec §16.5).

The HTTP hooks return *cross-type* results: plugins answer ``http_pre_request`` with
an :class:`HttpHeaderPayload`, ``http_auth_resolve_user`` with a user dict and
``http_auth_check_permission`` with a grant decision.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from enum import Enum
from typing import Any, Optional

from pydantic import RootModel, ValidationInfo, field_validator

from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.models import PluginPayload, PluginResult


class HttpHookType(str, Enum):
    """Hook points of the HTTP request path."""

    HTTP_PRE_REQUEST = "http_pre_request"
    HTTP_POST_REQUEST = "http_post_request"
    HTTP_AUTH_RESOLVE_USER = "http_auth_resolve_user"
    HTTP_AUTH_CHECK_PERMISSION = "http_auth_check_permission"


def _warn_deprecated(owner: str, field: str) -> None:
    # stacklevel 4 = this helper, the validator, BaseModel.__init__, the constructing code.
    warnings.warn(
        f"{owner}.{field} is deprecated; use extensions.http.headers instead "
        "(declare the read_headers capability and accept an extensions parameter).",
        DeprecationWarning,
        stacklevel=4,
    )


def warn_deprecated_headers(value: Any, info: ValidationInfo) -> Any:
    """Before-validator for payload ``headers`` fields superseded by ``extensions.http``.

    Warns whenever a value is supplied; the value itself passes through unchanged.
    """
    if value is not None:
        owner = info.config.get("title", "payload") if info.config else "payload"
        _warn_deprecated(str(owner), str(info.field_name))
    return value


class HttpHeaderPayload(RootModel[dict[str, str]], PluginPayload):
    """HTTP headers as a small mapping: ``iter``/``h[k]``/``len``, and ``h[k] = v``.

    Item assignment writes into the root dict despite the frozen model config; it is
    meant for private copies (plugins receive copy-on-write snapshots).
    """

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.root)

    def __getitem__(self, key: str) -> str:
        return self.root[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.root[key] = value

    def __len__(self) -> int:
        return len(self.root)


HttpHeaderPayloadResult = PluginResult[HttpHeaderPayload]


class HttpPreRequestPayload(PluginPayload):
    """An incoming HTTP request, before authentication."""

    path: str
    method: str
    client_host: Optional[str] = None
    client_port: Optional[int] = None
    headers: HttpHeaderPayload

    _warn_headers = field_validator("headers", mode="before")(warn_deprecated_headers)


class HttpPostRequestPayload(HttpPreRequestPayload):
    """An HTTP request after the response was produced."""

    response_headers: Optional[HttpHeaderPayload] = None
    status_code: Optional[int] = None


class HttpAuthResolveUserPayload(PluginPayload):
    """Credentials to turn into a user (plugins answer with a user dict)."""

    credentials: Optional[dict[str, Any]] = None
    headers: HttpHeaderPayload
    client_host: Optional[str] = None
    client_port: Optional[int] = None

    _warn_headers = field_validator("headers", mode="before")(warn_deprecated_headers)


class HttpAuthCheckPermissionPayload(PluginPayload):
    """A permission check (plugins answer with an HttpAuthCheckPermissionResultPayload)."""

    user_email: str
    permission: str
    resource_type: Optional[str] = None
    team_id: Optional[str] = None
    is_admin: bool = False
    auth_method: Optional[str] = None
    client_host: Optional[str] = None
    user_agent: Optional[str] = None


class HttpAuthCheckPermissionResultPayload(PluginPayload):
    """A plugin's permission decision."""

    granted: bool
    reason: Optional[str] = None


HttpPreRequestResult = PluginResult[HttpHeaderPayload]
HttpPostRequestResult = PluginResult[HttpHeaderPayload]
HttpAuthResolveUserResult = PluginResult[dict]
HttpAuthCheckPermissionResult = PluginResult[HttpAuthCheckPermissionResultPayload]


def _register() -> None:
    registry = get_hook_registry()
    if registry.is_registered(HttpHookType.HTTP_PRE_REQUEST):
        return
    registry.register_hook(HttpHookType.HTTP_PRE_REQUEST, HttpPreRequestPayload, HttpPreRequestResult)
    registry.register_hook(HttpHookType.HTTP_POST_REQUEST, HttpPostRequestPayload, HttpPostRequestResult)
    registry.register_hook(
        HttpHookType.HTTP_AUTH_RESOLVE_USER, HttpAuthResolveUserPayload, HttpAuthResolveUserResult
    )
    registry.register_hook(
        HttpHookType.HTTP_AUTH_CHECK_PERMISSION, HttpAuthCheckPermissionPayload, HttpAuthCheckPermissionResult
    )


_register()
