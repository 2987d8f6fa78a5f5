"""Hook types, payloads, result aliases, the hook registry and payload policies (spec §15, §16)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from cpex.framework.hooks import agents, http, identity, prompts, resources, tools
from cpex.framework.hooks.agents import AgentHookType, AgentPostInvokePayload, AgentPreInvokePayload
from cpex.framework.hooks.http import (
    HttpAuthCheckPermissionPayload,
    HttpAuthCheckPermissionResult,
    HttpAuthCheckPermissionResultPayload,
    HttpAuthResolveUserPayload,
    HttpAuthResolveUserResult,
    HttpHeaderPayload,
    HttpHookType,
    HttpPostRequestPayload,
    HttpPreRequestPayload,
    HttpPreRequestResult,
)
from cpex.framework.hooks.identity import (
    AttenuationConfig,
    DelegationPayload,
    DelegationResult,
    IdentityHookType,
    IdentityPayload,
    IdentityResult,
)
from cpex.framework.hooks.policies import DefaultHookPolicy, HookPayloadPolicy, apply_policy
from cpex.framework.hooks.prompts import PromptHookType, PromptPosthookPayload, PromptPrehookPayload
from cpex.framework.hooks.registry import HookRegistry, get_hook_registry
from cpex.framework.hooks.resources import ResourceHookType, ResourcePostFetchPayload, ResourcePreFetchPayload
from cpex.framework.hooks.tools import (
    ToolHookType,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)
from cpex.framework.models import PluginPayload, PluginResult
from cpex.framework.utils import StructuredData

BUILTIN_HOOKS = [
    "tool_pre_invoke",
    "tool_post_invoke",
    "prompt_pre_fetch",
    "prompt_post_fetch",
    "resource_pre_fetch",
    "resource_post_fetch",
    "agent_pre_invoke",
    "agent_post_invoke",
    "http_pre_request",
    "http_post_request",
    "http_auth_resolve_user",
    "http_auth_check_permission",
]


@pytest.fixture
def no_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _deprecations(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]


# --- enums ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (ToolHookType, ["tool_pre_invoke", "tool_post_invoke"]),
        (PromptHookType, ["prompt_pre_fetch", "prompt_post_fetch"]),
        (ResourceHookType, ["resource_pre_fetch", "resource_post_fetch"]),
        (AgentHookType, ["agent_pre_invoke", "agent_post_invoke"]),
        (
            HttpHookType,
            ["http_pre_request", "http_post_request", "http_auth_resolve_user", "http_auth_check_permission"],
        ),
        (IdentityHookType, ["identity_resolve", "token_delegate"]),
        (DefaultHookPolicy, ["allow", "deny"]),
    ],
)
def test_hook_enums_are_str_enums_with_exact_values(enum: Any, values: list[str]) -> None:
    assert [m.value for m in enum] == values
    first = next(iter(enum))
    assert isinstance(first, str) and first == values[0] and hash(first) == hash(values[0])


# --- payloads: fields, defaults, frozenness ----------------------------------------------


def test_tool_payload_fields_and_defaults() -> None:
    pre = ToolPreInvokePayload(name="t")
    assert list(ToolPreInvokePayload.model_fields) == ["name", "args", "headers"]
    assert pre.args == {} and pre.headers is None
    assert ToolPreInvokePayload(name="a").args is not ToolPreInvokePayload(name="b").args
    post = ToolPostInvokePayload(name="t", result={"ok": True})
    assert post.result == {"ok": True}
    with pytest.raises(ValidationError):
        ToolPostInvokePayload(name="t")  # result is required


def test_payloads_are_frozen_but_nested_containers_mutable() -> None:
    pre = ToolPreInvokePayload(name="t", args={"a": 1})
    with pytest.raises(ValidationError):
        pre.name = "other"  # type: ignore[misc]
    pre.args["b"] = 2  # type: ignore[index]
    assert pre.args == {"a": 1, "b": 2}
    assert isinstance(pre, PluginPayload)


def test_payloads_ignore_extra_fields() -> None:
    payload = PromptPrehookPayload(prompt_id="p", name="ignored", args={"k": "v"})  # type: ignore[call-arg]
    assert not hasattr(payload, "name")
    assert list(PromptPrehookPayload.model_fields) == ["prompt_id", "args"]


def test_prompt_prehook_args_are_string_valued() -> None:
    with pytest.raises(ValidationError):
        PromptPrehookPayload(prompt_id="p", args={"k": 1})  # type: ignore[dict-item]


def test_prompt_posthook_dict_result_becomes_structured_data() -> None:
    payload = PromptPosthookPayload(prompt_id="p", result={"messages": [{"role": "user"}]})
    assert isinstance(payload.result, StructuredData)
    assert payload.result.messages[0].role == "user"
    assert PromptPosthookPayload(prompt_id="p", result="text").result == "text"
    assert PromptPosthookPayload(prompt_id="p", result=[{"a": 1}]).result == [{"a": 1}]


def test_resource_payload_fields_and_defaults() -> None:
    assert ResourcePreFetchPayload(uri="file:///x").metadata == {}
    assert ResourcePostFetchPayload(uri="u", content=b"x").content == b"x"
    with pytest.raises(ValidationError):
        ResourcePostFetchPayload(uri="u")


def test_agent_payload_fields_defaults_and_message_coercion() -> None:
    pre = AgentPreInvokePayload(agent_id="a", messages=[{"role": "user", "content": "hi"}, "raw"])
    assert isinstance(pre.messages[0], StructuredData) and pre.messages[0].content == "hi"
    assert pre.messages[1] == "raw"
    assert (pre.tools, pre.headers, pre.model, pre.system_prompt, pre.parameters) == (None, None, None, None, {})
    post = AgentPostInvokePayload(agent_id="a", messages=[{"role": "assistant"}])
    assert post.messages[0].role == "assistant" and post.tool_calls is None
    with pytest.raises(ValidationError):
        AgentPreInvokePayload(agent_id="a")


def test_http_payload_fields_and_defaults() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pre = HttpPreRequestPayload(path="/", method="GET", headers=HttpHeaderPayload({"a": "b"}))
        post = HttpPostRequestPayload(path="/", method="GET", headers={"a": "b"})
        resolve = HttpAuthResolveUserPayload(headers=HttpHeaderPayload({}))
    assert (pre.client_host, pre.client_port) == (None, None)
    assert isinstance(post, HttpPreRequestPayload) and isinstance(post.headers, HttpHeaderPayload)
    assert (post.response_headers, post.status_code) == (None, None)
    assert list(HttpAuthResolveUserPayload.model_fields) == ["credentials", "headers", "client_host", "client_port"]
    assert resolve.credentials is None
    check = HttpAuthCheckPermissionPayload(user_email="u@x", permission="tools.read")
    assert check.is_admin is False
    assert (check.resource_type, check.team_id, check.auth_method, check.client_host, check.user_agent) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert HttpAuthCheckPermissionResultPayload(granted=True).reason is None
    with pytest.raises(ValidationError):
        HttpPreRequestPayload(path="/", method="GET")  # headers required


def test_identity_payload_secret_is_redacted_and_defaults() -> None:
    payload = IdentityPayload(raw_token="tok")  # type: ignore[arg-type]
    assert isinstance(payload.raw_token, SecretStr)
    assert payload.raw_token.get_secret_value() == "tok"
    assert json.loads(payload.model_dump_json())["raw_token"] == "**********"
    assert (payload.source, payload.headers, payload.client_host, payload.client_port) == ("bearer", {}, None, None)


def test_identity_result_and_delegation_models_defaults() -> None:
    result = IdentityResult()
    assert (result.subject, result.delegation, result.rejected) == (None, None, False)
    assert (result.reject_status, result.reject_reason, result.raw_claims) == (401, "", {})
    delegation = DelegationPayload(target_name="svc")
    assert delegation.target_type == "tool" and delegation.auth_enforced_by == "caller"
    assert delegation.required_permissions == [] and delegation.bearer_token is None
    out = DelegationResult()
    assert out.delegation_update.chain == () and out.forwarded_headers == {}
    attenuation = AttenuationConfig()
    assert (attenuation.capabilities, attenuation.actions, attenuation.ttl_seconds) == ([], [], None)
    with pytest.raises(ValidationError):
        attenuation.ttl_seconds = 5  # type: ignore[misc]


# --- deprecation warnings ---------------------------------------------------------------


def test_tool_headers_warn_only_when_supplied(no_warnings: list[warnings.WarningMessage]) -> None:
    ToolPreInvokePayload(name="t")
    ToolPreInvokePayload(name="t", headers=None)
    assert _deprecations(no_warnings) == []
    ToolPreInvokePayload(name="t", headers={"a": "b"})
    messages = _deprecations(no_warnings)
    assert len(messages) == 1
    assert "is deprecated; use extensions.http.headers instead" in messages[0]


def test_agent_headers_warn_when_supplied(no_warnings: list[warnings.WarningMessage]) -> None:
    AgentPreInvokePayload(agent_id="a", messages=[], headers=HttpHeaderPayload({"a": "b"}))
    assert len(_deprecations(no_warnings)) == 1


def test_http_payloads_with_required_headers_warn_on_every_construction(
    no_warnings: list[warnings.WarningMessage],
) -> None:
    HttpPreRequestPayload(path="/", method="GET", headers=HttpHeaderPayload({}))
    HttpAuthResolveUserPayload(headers=HttpHeaderPayload({}))
    assert len(_deprecations(no_warnings)) == 2


def test_deprecation_warning_points_at_the_caller(no_warnings: list[warnings.WarningMessage]) -> None:
    ToolPreInvokePayload(name="t", headers={"a": "b"})
    assert no_warnings[-1].filename == __file__


# --- HttpHeaderPayload ------------------------------------------------------------------


def test_http_header_payload_is_a_small_mapping() -> None:
    headers = HttpHeaderPayload({"a": "1", "b": "2"})
    assert list(headers) == ["a", "b"]
    assert headers["a"] == "1"
    assert len(headers) == 2
    assert "a" in headers
    with pytest.raises(KeyError):
        headers["missing"]


def test_http_header_payload_item_assignment_mutates_root_despite_frozen() -> None:
    headers = HttpHeaderPayload(root={"a": "1"})
    headers["c"] = "3"
    assert headers.root == {"a": "1", "c": "3"}
    with pytest.raises(ValidationError):
        headers.root = {}  # type: ignore[misc]


def test_http_header_payload_equality_and_validation() -> None:
    assert HttpHeaderPayload({"a": "1"}) == HttpHeaderPayload({"a": "1"})
    assert HttpHeaderPayload({"a": "1"}) != HttpHeaderPayload({"a": "2"})
    assert HttpHeaderPayload({"a": "1"}).model_dump() == {"a": "1"}
    with pytest.raises(ValidationError):
        HttpHeaderPayload({"a": 1})  # type: ignore[dict-item]


# --- result aliases ---------------------------------------------------------------------


def test_result_aliases_are_parametrised_plugin_results() -> None:
    result = ToolPreInvokeResult(modified_payload={"name": "t"})
    assert isinstance(result, PluginResult)
    assert isinstance(result.modified_payload, ToolPreInvokePayload)
    assert ToolPostInvokeResult is PluginResult[ToolPostInvokePayload]


def test_http_results_are_cross_type() -> None:
    assert HttpPreRequestResult(modified_payload={"x": "y"}).modified_payload == HttpHeaderPayload({"x": "y"})
    assert HttpAuthResolveUserResult(modified_payload={"email": "u@x"}).modified_payload == {"email": "u@x"}
    granted = HttpAuthCheckPermissionResult(modified_payload={"granted": True})
    assert granted.modified_payload == HttpAuthCheckPermissionResultPayload(granted=True)


# --- HookRegistry -----------------------------------------------------------------------


def test_hook_registry_is_a_singleton() -> None:
    assert HookRegistry() is HookRegistry() is get_hook_registry()


def test_builtin_hooks_are_registered_with_their_classes() -> None:
    registry = get_hook_registry()
    for hook in BUILTIN_HOOKS:
        assert registry.is_registered(hook), hook
    assert registry.get_payload_type("tool_pre_invoke") is ToolPreInvokePayload
    assert registry.get_result_type("http_pre_request") is HttpPreRequestResult
    assert registry.get_payload_type(IdentityHookType.TOKEN_DELEGATE) is DelegationPayload
    registered = registry.get_registered_hooks()
    assert set(BUILTIN_HOOKS) <= set(registered)
    # Keys are the enum members themselves (equal to their string values).
    assert all(isinstance(h, str) for h in registered)
    assert type(registered[registered.index("tool_pre_invoke")]) is ToolHookType


def test_registry_counts_in_a_fresh_interpreter() -> None:
    # Identity hooks exist only once the module is imported, so count in a clean process.
    script = (
        "import cpex.framework\n"
        "from cpex.framework.hooks.registry import get_hook_registry\n"
        "r = get_hook_registry(); n = len(r.get_registered_hooks())\n"
        "import cpex.framework.hooks.identity\n"
        "print(n, len(r.get_registered_hooks()), r.is_registered('identity_resolve'))\n"
    )
    import cpex

    package_root = os.path.dirname(os.path.dirname(os.path.abspath(cpex.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["12", "14", "True"]


def test_module_registration_is_skipped_when_first_hook_exists() -> None:
    registry = get_hook_registry()

    class Other(PluginPayload):
        pass

    before = registry.get_registered_hooks()
    registry.register_hook(ToolHookType.TOOL_PRE_INVOKE, Other, PluginResult[Other])
    try:
        tools._register()
        assert registry.get_payload_type("tool_pre_invoke") is Other
        for module in (tools, prompts, resources, agents, http, identity):
            module._register()
        assert registry.get_registered_hooks() == before
    finally:
        registry.register_hook(ToolHookType.TOOL_PRE_INVOKE, ToolPreInvokePayload, ToolPreInvokeResult)


def test_register_hook_overwrites_and_is_registered_needs_both_types() -> None:
    registry = get_hook_registry()

    class Custom(PluginPayload):
        x: int

    try:
        registry.register_hook("custom_test_hook", Custom, PluginResult[Custom])
        assert registry.is_registered("custom_test_hook")
        registry._hook_results.pop("custom_test_hook")
        assert not registry.is_registered("custom_test_hook")
    finally:
        registry._hook_payloads.pop("custom_test_hook", None)
        registry._hook_results.pop("custom_test_hook", None)


def test_registry_json_conversion() -> None:
    registry = get_hook_registry()
    from_text = registry.json_to_payload("tool_pre_invoke", '{"name": "t", "args": {"a": 1}}')
    from_dict = registry.json_to_payload("tool_pre_invoke", {"name": "t", "args": {"a": 1}})
    assert from_text == from_dict == ToolPreInvokePayload(name="t", args={"a": 1})
    result = registry.json_to_result("tool_post_invoke", '{"continue_processing": false}')
    assert isinstance(result, PluginResult) and result.continue_processing is False


def test_registry_json_conversion_of_unknown_hook_raises() -> None:
    registry = get_hook_registry()
    with pytest.raises(ValueError, match="^No payload type registered for hook: nope$"):
        registry.json_to_payload("nope", "{}")
    with pytest.raises(ValueError, match="^No result type registered for hook: nope$"):
        registry.json_to_result("nope", {})
    assert registry.get_payload_type("nope") is None and registry.get_result_type("nope") is None


# --- policies ---------------------------------------------------------------------------


class _Inner(BaseModel):
    v: int


class _Payload(PluginPayload):
    name: str
    args: dict[str, Any] = {}  # noqa: RUF012 - a pydantic field: copied per instance
    inner: _Inner = _Inner(v=0)


def test_hook_payload_policy_is_a_frozen_dataclass() -> None:
    policy = HookPayloadPolicy(writable_fields=frozenset({"args"}))
    assert dataclasses.is_dataclass(policy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.writable_fields = frozenset()  # type: ignore[misc]


def test_apply_policy_keeps_writable_changes_only(caplog: pytest.LogCaptureFixture) -> None:
    original = _Payload(name="a", args={"x": 1})
    modified = _Payload(name="b", args={"x": 2})
    result = apply_policy(original, modified, HookPayloadPolicy(frozenset({"args"})))
    assert result == _Payload(name="a", args={"x": 2})
    assert "name" in caplog.text  # the rejected field is logged


def test_apply_policy_returns_none_when_nothing_writable_changed() -> None:
    original = _Payload(name="a")
    assert apply_policy(original, _Payload(name="b"), HookPayloadPolicy(frozenset({"args"}))) is None
    assert apply_policy(original, _Payload(name="a"), HookPayloadPolicy(frozenset({"name"}))) is None


def test_apply_policy_compares_models_by_dump() -> None:
    original = _Payload(name="a", inner=_Inner(v=1))
    same = _Payload(name="a", inner=_Inner(v=1))
    changed = _Payload(name="a", inner=_Inner(v=2))
    policy = HookPayloadPolicy(frozenset({"inner"}))
    assert apply_policy(original, same, policy) is None
    result = apply_policy(original, changed, policy)
    assert result is not None and result.inner == _Inner(v=2)


def test_apply_policy_applies_to_the_given_target() -> None:
    original = _Payload(name="a", args={"x": 1})
    target = _Payload(name="chained", args={"x": 1})
    modified = _Payload(name="a", args={"x": 9})
    result = apply_policy(original, modified, HookPayloadPolicy(frozenset({"args"})), apply_to=target)
    assert result == _Payload(name="chained", args={"x": 9})
    assert original.args == {"x": 1}


def test_apply_policy_field_names_are_top_level_only() -> None:
    original = _Payload(name="a", args={"x": 1})
    modified = _Payload(name="a", args={"x": 2})
    assert apply_policy(original, modified, HookPayloadPolicy(frozenset({"args.x"}))) is None


def test_apply_policy_iterates_fields_of_the_modified_type() -> None:
    class Narrow(PluginPayload):
        name: str

    original = _Payload(name="a", args={"x": 1})
    result = apply_policy(original, Narrow(name="b"), HookPayloadPolicy(frozenset({"name", "args"})))
    assert result == _Payload(name="b", args={"x": 1})
