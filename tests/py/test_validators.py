"""URL validation for plugin configs, including the SSRF switch (spec §21.2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cpex.framework.settings import settings
from cpex.framework.validators import SecurityValidator, validate_plugin_url


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PLUGINS_SSRF_PROTECTION_ENABLED", raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com:9000/mcp",
        "ws://example.com/socket",
        "WSS://EXAMPLE.COM/x",
        "http://localhost:8000/mcp",  # host names are not resolved
        "https://8.8.8.8/x",
        "https://example.com/path?q=a b",  # spaces are allowed in the query
        "https://example.com/?online=1",
        "https://172.32.0.1/",  # just outside 172.16/12
    ],
)
def test_valid_urls_are_returned_unchanged(url: str) -> None:
    assert validate_plugin_url(url) == url
    assert SecurityValidator.validate_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "URL cannot be empty"),
        ("http://e.com/" + "a" * 2048, "URL exceeds maximum length of 2048"),
        ("ftp://example.com", "URL must start with one of: http://, https://, ws://, wss://"),
        ("example.com", "URL must start with one of"),
        ("https://example.com/javascript:alert(1)", "URL contains unsupported or potentially dangerous protocol"),
        ("https://example.com/?x=data:text", "dangerous protocol"),
        ("https://example.com/file:x", "dangerous protocol"),
        ("https://example.com/mailto:a", "dangerous protocol"),
        ("https://[::1]:8080/", "URL contains IPv6 address which is not supported"),
        ("https://example.com/\r\nx", "URL contains line breaks which are not allowed"),
        ("https://exa mple.com/", "URL contains spaces which are not allowed in URLs"),
        ("http://", "URL is not a valid URL"),
        ("https://user:pass@example.com/", "URL contains credentials which are not allowed"),
        ("https://user@example.com/", "URL contains credentials"),
        ("https://example.com:0/", "URL contains invalid port number"),
        ("https://example.com:70000/", "out of range|invalid port"),
        ("https://0.0.0.0/", r"URL contains invalid IP address \(0.0.0.0\)"),
        ("https://example.com/<script>alert(1)</script>", "URL contains HTML tags that may cause security issues"),
        ("https://example.com/<iframe>", "HTML tags"),
        ("https://example.com/x\"onload=alert(1)", "URL contains script patterns that may cause security issues"),
    ],
)
def test_invalid_urls_are_rejected_with_the_field_name(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_plugin_url(url)


def test_field_name_prefixes_the_message() -> None:
    with pytest.raises(ValueError, match="^MCP server URL cannot be empty$"):
        validate_plugin_url("", "MCP server URL")


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.1.1", "127.0.0.1",
             "169.254.169.254"]
)
def test_ssrf_protection_blocks_literal_private_addresses(host: str) -> None:
    with pytest.raises(ValueError, match=rf"blocked by SSRF protection \({host}\)"):
        validate_plugin_url(f"http://{host}:8000/mcp")


@pytest.mark.parametrize("host", ["10.0.0.1", "127.0.0.1", "169.254.169.254"])
def test_ssrf_protection_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    settings.cache_clear()
    url = f"http://{host}:8000/mcp"
    assert validate_plugin_url(url) == url


def test_zero_address_is_rejected_even_without_ssrf_protection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    settings.cache_clear()
    with pytest.raises(ValueError, match="0.0.0.0"):
        validate_plugin_url("http://0.0.0.0:8000/")
