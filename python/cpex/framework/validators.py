"""Validation of URLs taken from plugin configs (spec §21.2).

A plugin URL decides where the framework connects, so the rules err on the side of
rejecting: http(s)/ws(s) only, no credentials, no dangerous schemes, markup or script
patterns, and no literal private or loopback addresses while SSRF protection is on
(``PLUGINS_SSRF_PROTECTION_ENABLED``, default on). Host names are not resolved, so
``localhost`` passes. Error messages start with the field name.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlparse

from cpex.framework.settings import get_ssrf_settings

_MAX_URL_LENGTH = 2048
_ALLOWED_PREFIXES = ("http://", "https://", "ws://", "wss://")
# Searched anywhere in the URL (case-insensitive), not only as its scheme.
_DANGEROUS_PROTOCOLS = ("javascript:", "data:", "vbscript:", "about:", "chrome:", "file:", "ftp:", "mailto:")
_SSRF_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
)
_HTML_TAGS = (
    "script|iframe|object|embed|link|meta|base|form|img|svg|video|audio|source|track|area|map|canvas"
    "|applet|frame|frameset|html|head|body|style"
)
_DANGEROUS_HTML_PATTERN = re.compile(rf"<({_HTML_TAGS})\b|</*({_HTML_TAGS})>", re.IGNORECASE)
# Script URLs and event handlers only count after a delimiter, so that ordinary query
# parameters (``?online=1``) pass.
_DANGEROUS_JS_PATTERN = re.compile(
    r"(?:^|\s|[\"'`<>=])(javascript:|vbscript:|data:\s*[^,]*[;\s]*(javascript|vbscript)|\bon[a-z]+\s*=|<\s*script\b)",
    re.IGNORECASE,
)


def _check_host(host: str, field_name: str) -> None:
    if host == "0.0.0.0":  # noqa: S104 - this is the check against it
        raise ValueError(f"{field_name} contains invalid IP address (0.0.0.0)")
    if not get_ssrf_settings().ssrf_protection_enabled:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a host name: not resolved here
    if any(address in network for network in _SSRF_BLOCKED_NETWORKS):
        raise ValueError(f"{field_name} contains IP address blocked by SSRF protection ({host})")


class SecurityValidator:
    """URL checks for configuration values."""

    @staticmethod
    def validate_url(value: str, field_name: str = "URL") -> str:
        """Return ``value`` if it is an acceptable plugin URL, else raise ``ValueError`` naming ``field_name``."""
        if not value:
            raise ValueError(f"{field_name} cannot be empty")
        if len(value) > _MAX_URL_LENGTH:
            raise ValueError(f"{field_name} exceeds maximum length of {_MAX_URL_LENGTH}")
        lowered = value.lower()
        if not lowered.startswith(_ALLOWED_PREFIXES):
            raise ValueError(f"{field_name} must start with one of: {', '.join(_ALLOWED_PREFIXES)}")
        if any(protocol in lowered for protocol in _DANGEROUS_PROTOCOLS):
            raise ValueError(f"{field_name} contains unsupported or potentially dangerous protocol")
        if "[" in value or "]" in value:
            raise ValueError(f"{field_name} contains IPv6 address which is not supported")
        if "\r" in value or "\n" in value:
            raise ValueError(f"{field_name} contains line breaks which are not allowed")
        if " " in value.split("?", 1)[0]:
            raise ValueError(f"{field_name} contains spaces which are not allowed in URLs")
        try:
            parsed = urlparse(value)
            if not parsed.scheme or not parsed.netloc:
                raise ValueError(f"{field_name} is not a valid URL")
            if parsed.username or parsed.password:
                raise ValueError(f"{field_name} contains credentials which are not allowed")
            port = parsed.port  # raises ValueError for ports outside 0-65535
            if port is not None and not 1 <= port <= 65535:
                raise ValueError(f"{field_name} contains invalid port number")
            if parsed.hostname:
                _check_host(parsed.hostname, field_name)
            if _DANGEROUS_HTML_PATTERN.search(value):
                raise ValueError(f"{field_name} contains HTML tags that may cause security issues")
            if _DANGEROUS_JS_PATTERN.search(value):
                raise ValueError(f"{field_name} contains script patterns that may cause security issues")
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure means "not a URL"
            raise ValueError(f"{field_name} is not a valid URL") from exc
        return value


def validate_plugin_url(value: str, field_name: str = "URL") -> str:
    """:meth:`SecurityValidator.validate_url` as a plain function."""
    return SecurityValidator.validate_url(value, field_name)
