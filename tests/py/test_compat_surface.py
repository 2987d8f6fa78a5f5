"""Names and messages that code written against upstream cpex 0.1.4 reaches directly.

The spec fixes behaviour; these are the places where the published package also fixes
a *name* or the wording of an error that callers match on: model validators callable as
classmethods under their upstream names, the two XSS patterns of the URL validator, and
the TypeError / warning texts of the copy-on-write helpers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from cpex.framework import validators
from cpex.framework.memory import CopyOnWriteDict, _safe_deepcopy, copyonwrite
from cpex.framework.models import (
    GlobalContext,
    GRPCClientConfig,
    GRPCServerConfig,
    GRPCServerTLSConfig,
    MCPClientConfig,
    MCPServerConfig,
    MCPTransportTLSConfigBase,
    PluginCondition,
    PluginConfig,
    TransportType,
    UnixSocketClientConfig,
)

# (model, validator names) as upstream 0.1.4 spells them.
VALIDATOR_NAMES: list[tuple[type[Any], str]] = [
    (PluginCondition, "normalize_content_types serialize_set"),
    (MCPTransportTLSConfigBase, "validate_path validate_cert_key"),
    (MCPServerConfig, "validate_uds validate_uds_tls"),
    (
        MCPClientConfig,
        "validate_url validate_script validate_cmd validate_env validate_cwd validate_uds "
        "validate_tls_usage validate_transport_fields",
    ),
    (GRPCServerTLSConfig, "validate_client_auth"),
    (GRPCClientConfig, "validate_target validate_uds validate_target_or_uds"),
    (GRPCServerConfig, "validate_uds validate_uds_tls"),
    (UnixSocketClientConfig, "validate_path"),
    (PluginConfig, "serialize_capabilities check_url_or_script_filled check_config_and_external"),
    (GlobalContext, "validate_content_type"),
]


@pytest.mark.parametrize(("model", "names"), VALIDATOR_NAMES, ids=lambda v: getattr(v, "__name__", "names"))
def test_validators_have_their_upstream_names(model: type[Any], names: str) -> None:
    for name in names.split():
        assert callable(getattr(model, name)), f"{model.__name__}.{name}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PATH": 1}, "env values must be strings"),
        ({"PATH": None}, "env values must be strings"),
        ({"": "x"}, "env keys must be non-empty strings"),
        ({3: "x"}, "env keys must be non-empty strings"),
        ({}, "env must be a non-empty dict"),
        (["PATH=x"], "env must be a non-empty dict"),
    ],
)
def test_validate_env_called_directly_checks_types(env: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MCPClientConfig.validate_env(env)


def test_validate_env_and_cmd_accept_good_values_unchanged() -> None:
    env = {"PATH": "/usr/bin"}
    assert MCPClientConfig.validate_env(env) is env
    assert MCPClientConfig.validate_env(None) is None
    assert MCPClientConfig.validate_cmd(["python", "-m", "srv"]) == ["python", "-m", "srv"]


@pytest.mark.parametrize("cmd", [["python", 3], ["python", " "], "python srv.py", []])
def test_validate_cmd_called_directly_rejects_bad_commands(cmd: Any) -> None:
    with pytest.raises(ValueError, match="MCP stdio cmd"):
        MCPClientConfig.validate_cmd(cmd)


def test_validators_still_run_on_construction() -> None:
    with pytest.raises(ValueError, match="env must be a non-empty dict"):
        MCPClientConfig(proto=TransportType.STDIO, cmd=["python"], env={})
    cond = PluginCondition(content_types=["Application/JSON; charset=utf-8"])
    assert cond.content_types == ["application/json"]


@pytest.mark.parametrize(
    ("pattern", "text", "hit"),
    [
        ("_DANGEROUS_HTML_PATTERN", "<IFRAME src=x>", True),
        ("_DANGEROUS_HTML_PATTERN", "</style>", True),
        ("_DANGEROUS_HTML_PATTERN", "<b>bold</b>", False),
        ("_DANGEROUS_JS_PATTERN", "go=javascript:x()", True),
        ("_DANGEROUS_JS_PATTERN", "<img onerror=run()>", True),
        ("_DANGEROUS_JS_PATTERN", "?online=1&mode=x", False),
    ],
)
def test_xss_patterns_are_importable_under_upstream_names(pattern: str, text: str, hit: bool) -> None:
    assert (getattr(validators, pattern).search(text) is not None) is hit


def test_pop_with_two_defaults_names_the_accepted_arity() -> None:
    cow = CopyOnWriteDict({"a": 1})
    with pytest.raises(TypeError, match=r"pop\(\) accepts 1 or 2 arguments"):
        cow.pop("a", 1, 2)
    assert cow.pop("missing", 7) == 7
    assert not cow.has_modifications()


@pytest.mark.parametrize("value", ["text", 3, (1, 2), {1, 2}])
def test_copyonwrite_of_other_types_says_no_wrapper_exists(value: Any) -> None:
    with pytest.raises(TypeError, match=f"No copy-on-write wrapper available for {type(value).__name__}"):
        copyonwrite(value)


def test_uncopyable_value_is_shared_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    lock = threading.RLock()
    with caplog.at_level(logging.WARNING, logger="cpex.framework.memory"):
        assert _safe_deepcopy(lock) is lock
    assert "Cannot deep-copy" in caplog.text and "sharing reference" in caplog.text


def test_settings_classes_expose_the_blank_to_none_rule() -> None:
    from cpex.framework.settings import (
        PluginsClientMtlsSettings,
        PluginsGrpcClientMtlsSettings,
        PluginsGrpcServerSettings,
        PluginsMcpServerSettings,
        PluginsSettings,
    )

    for cls in (PluginsSettings, PluginsClientMtlsSettings, PluginsMcpServerSettings,
                PluginsGrpcClientMtlsSettings, PluginsGrpcServerSettings):
        assert cls.empty_string_to_none("") is None, cls.__name__
        assert cls.empty_string_to_none("   ") is None, cls.__name__
        assert cls.empty_string_to_none("8443") == "8443", cls.__name__
        assert cls.empty_string_to_none(0) == 0, cls.__name__


# Names that upstream modules expose only because they import them; code in the wild
# imports them from there (e.g. an extension model from extensions.extensions).
REACHABLE_NAMES: dict[str, str] = {
    "cpex.framework.models": "URL SCRIPT CMD ENV CWD UDS",
    "cpex.framework.utils": "GlobalContext PluginCondition",
    "cpex.framework.decorator": "PluginPayload PluginResult",
    "cpex.framework.hooks.registry": "PluginPayload PluginResult",
    "cpex.framework.hooks.agents": "MessageLike",
    "cpex.framework.hooks.prompts": "PromptResultLike",
    "cpex.framework.extensions.extensions": """AgentExtension CompletionExtension DelegationExtension
        FrameworkExtension HttpExtension LLMExtension MCPExtension MetaExtension ProvenanceExtension
        RequestExtension SecurityExtension Extensions""",
    "cpex.framework.extensions.tiers": """FIELD_AGENT FIELD_CLAIMS FIELD_CLASSIFICATION FIELD_COMPLETION
        FIELD_CUSTOM FIELD_DATA FIELD_DELEGATION FIELD_FRAMEWORK FIELD_HTTP FIELD_LABELS FIELD_LLM FIELD_MCP
        FIELD_META FIELD_OBJECTS FIELD_PERMISSIONS FIELD_PROVENANCE FIELD_REQUEST FIELD_ROLES FIELD_SECURITY
        FIELD_SUBJECT FIELD_TEAMS""",
}


@pytest.mark.parametrize("module", sorted(REACHABLE_NAMES))
def test_names_reachable_through_upstream_imports(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    for name in REACHABLE_NAMES[module].split():
        exec(f"from {module} import {name}", {})  # noqa: S102 - the import statement is what is tested
        assert getattr(mod, name) is not None, f"{module}.{name}"


def test_reachable_names_are_the_same_objects() -> None:
    from cpex.framework import decorator, models, utils
    from cpex.framework.extensions import extensions, request
    from cpex.framework.hooks import registry

    assert utils.GlobalContext is models.GlobalContext
    assert decorator.PluginResult is models.PluginResult
    assert registry.PluginPayload is models.PluginPayload
    assert extensions.RequestExtension is request.RequestExtension
    assert models.URL == "url"
    with pytest.raises(AttributeError):
        utils.NoSuchName  # noqa: B018 - the lazy lookup must still reject unknown names
