"""Helpers of cpex.framework.utils, including the public condition-matching API (spec §12, §21.1)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from cpex.framework import GlobalContext, PluginCondition
from cpex.framework.hooks.agents import AgentPreInvokePayload
from cpex.framework.hooks.identity import DelegationPayload, IdentityPayload
from cpex.framework.hooks.prompts import PromptHookType, PromptPrehookPayload
from cpex.framework.hooks.resources import ResourcePreFetchPayload
from cpex.framework.hooks.tools import ToolHookType, ToolPostInvokePayload, ToolPreInvokePayload
from cpex.framework.utils import (
    StructuredData,
    coerce_messages,
    coerce_nested,
    find_package_path,
    get_attr,
    get_matchable_value,
    import_module,
    manifest_filename_for_class,
    matches,
    normalize_content_type,
    parse_class_name,
    payload_matches,
)


def ctx(**fields: Any) -> GlobalContext:
    return GlobalContext(request_id="r", **fields)


# ------------------------------------------------------------------ content types


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("text/html;charset=x", "text/html"),
        ("  TEXT/PLAIN  ", "text/plain"),
        ("", ""),
        ("   ", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_normalize_content_type(raw: Any, expected: str) -> None:
    assert normalize_content_type(raw) == expected


# ------------------------------------------------------------------ matches (context part)


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        (PluginCondition(), ctx(), True),
        (PluginCondition(server_ids={"a", "b"}), ctx(server_id="a"), True),
        (PluginCondition(server_ids={"a"}), ctx(server_id="c"), False),
        (PluginCondition(server_ids={"a"}), ctx(), False),  # a None server id fails
        (PluginCondition(server_ids=set()), ctx(), True),  # empty set = no constraint
        (PluginCondition(tenant_ids={"t"}), ctx(tenant_id="t"), True),
        (PluginCondition(tenant_ids={"t"}), ctx(tenant_id="u"), False),
        (PluginCondition(content_types=["application/json"]), ctx(content_type="application/json"), True),
        (PluginCondition(content_types=["application/json"]), ctx(content_type="Application/Json; q=1"), True),
        (PluginCondition(content_types=["Application/JSON; x=y"]), ctx(content_type="application/json"), True),
        (PluginCondition(content_types=["application/json"]), ctx(content_type="text/plain"), False),
        (PluginCondition(content_types=["application/json"]), ctx(), False),
        (PluginCondition(content_types=["application/json"]), ctx(content_type="  "), False),
        (PluginCondition(user_patterns=["admin"]), ctx(user="superadmin@x"), True),  # substring
        (PluginCondition(user_patterns=["adm.*"]), ctx(user="admin"), False),  # not a regex
        (PluginCondition(user_patterns=["admin"]), ctx(user="bob"), False),
        (PluginCondition(user_patterns=["admin"]), ctx(), False),  # no user fails
        (PluginCondition(user_patterns=["email"]), ctx(user={"email": "a@b"}), True),  # dict: key membership
        (PluginCondition(user_patterns=["a@b"]), ctx(user={"email": "a@b"}), False),
        (PluginCondition(server_ids={"a"}, tenant_ids={"t"}), ctx(server_id="a", tenant_id="x"), False),  # AND
        (PluginCondition(tools={"other"}), ctx(), True),  # payload fields are not checked here
    ],
)
def test_matches_context_fields(condition: PluginCondition, context: GlobalContext, expected: bool) -> None:
    assert matches(condition, context) is expected


# ------------------------------------------------------------------ payload part


@pytest.mark.parametrize(
    ("payload", "hook", "expected"),
    [
        (ToolPreInvokePayload(name="search"), "tool_pre_invoke", "search"),
        (ToolPostInvokePayload(name="search", result=1), "tool_post_invoke", "search"),
        (PromptPrehookPayload(prompt_id="p1"), "prompt_pre_fetch", "p1"),
        (ResourcePreFetchPayload(uri="file:///a"), "resource_pre_fetch", "file:///a"),
        (AgentPreInvokePayload(agent_id="ag", messages=[]), "agent_pre_invoke", "ag"),
        (DelegationPayload(target_name="tgt"), "token_delegate", "tgt"),
        (ToolPreInvokePayload(name="search"), "http_pre_request", None),
        (ToolPreInvokePayload(name="search"), "my_custom_hook", None),
        (ToolPreInvokePayload(name="search"), ToolHookType.TOOL_PRE_INVOKE, "search"),
    ],
)
def test_get_matchable_value(payload: Any, hook: str, expected: Any) -> None:
    assert get_matchable_value(payload, hook) == expected


def test_identity_resolve_matches_against_the_secret_token() -> None:
    payload = IdentityPayload(raw_token=SecretStr("tok"))
    value = get_matchable_value(payload, "identity_resolve")
    assert isinstance(value, SecretStr)
    # A SecretStr is never equal to a plain name, so a tools condition excludes it.
    assert payload_matches(payload, "identity_resolve", [PluginCondition(tools={"tok"})], ctx()) is False


def test_empty_condition_list_matches_everything() -> None:
    assert payload_matches(ToolPreInvokePayload(name="x"), "tool_pre_invoke", [], ctx()) is True


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([PluginCondition(tools={"search"})], True),
        ([PluginCondition(tools={"other"})], False),
        ([PluginCondition(tools={"other"}), PluginCondition(tools={"search"})], True),  # OR across
        ([PluginCondition(tools={"search"}, server_ids={"s2"})], False),  # AND within
        ([PluginCondition(tools={"search"}, server_ids={"s1"})], True),
        ([PluginCondition(prompts={"p"})], True),  # other hooks' fields are ignored
        ([PluginCondition(tools=set())], True),
        ([PluginCondition(server_ids={"nope"})], False),
    ],
)
def test_payload_matches_tool_hook(conditions: list[PluginCondition], expected: bool) -> None:
    payload = ToolPreInvokePayload(name="search")
    assert payload_matches(payload, "tool_pre_invoke", conditions, ctx(server_id="s1")) is expected


def test_payload_matches_empty_payload_value_never_excludes() -> None:
    payload = ToolPreInvokePayload(name="")
    assert payload_matches(payload, "tool_pre_invoke", [PluginCondition(tools={"other"})], ctx()) is True


def test_payload_matches_accepts_enum_hook_types() -> None:
    payload = PromptPrehookPayload(prompt_id="p1")
    conditions = [PluginCondition(prompts={"p2"})]
    assert payload_matches(payload, PromptHookType.PROMPT_PRE_FETCH, conditions, ctx()) is False


def test_payload_matches_other_hooks_only_check_the_context() -> None:
    payload = ToolPreInvokePayload(name="x")
    conditions = [PluginCondition(tools={"nothing"}, tenant_ids={"t"})]
    assert payload_matches(payload, "http_pre_request", conditions, ctx(tenant_id="t")) is True
    assert payload_matches(payload, "http_pre_request", conditions, ctx(tenant_id="u")) is False


# ------------------------------------------------------------------ import helpers


def test_parse_class_name() -> None:
    assert parse_class_name("a.b.Cls") == ("a.b", "Cls")
    assert parse_class_name("pkg.Cls") == ("pkg", "Cls")
    assert parse_class_name("Cls") == ("", "Cls")


def test_import_module_imports_and_caches() -> None:
    module = import_module("json")
    assert module is import_module("json")
    assert hasattr(module, "dumps")


@pytest.mark.parametrize(
    "name", ["os", "os.path", "sys", "subprocess", "shutil", "socket", "http.server", "ctypes", "importlib",
             "importlib.util", "builtins", "code", "codeop", "compileall", "runpy"]
)
def test_import_module_blocks_dangerous_modules(name: str) -> None:
    with pytest.raises(ImportError, match="blocked for security reasons"):
        import_module(name)


@pytest.mark.parametrize("name", ["..evil", "a/b", "a\\b", "pkg..mod"])
def test_import_module_rejects_path_characters(name: str) -> None:
    with pytest.raises(ImportError, match="contains invalid characters"):
        import_module(name)


def test_import_module_allows_lookalike_names() -> None:
    # Only the module itself and its submodules are blocked, not every name sharing a prefix.
    assert import_module("codecs").__name__ == "codecs"
    assert import_module("http.client").__name__ == "http.client"


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("pkg.module.ClassName", "pkg-module-ClassName.plugin-manifest.yaml"),
        ("my_pkg.Plugin-2", "my_pkg-Plugin-2.plugin-manifest.yaml"),
        ("...", "plugin.plugin-manifest.yaml"),
        ("", "plugin.plugin-manifest.yaml"),
        (" a b ", "a-b.plugin-manifest.yaml"),
    ],
)
def test_manifest_filename_for_class(cls: str, expected: str) -> None:
    assert manifest_filename_for_class(cls) == expected


def test_find_package_path_of_a_module_and_of_nothing() -> None:
    assert find_package_path("yaml") == Path(__import__("yaml").__file__).parent
    with pytest.raises(RuntimeError):
        find_package_path("surely_no_such_package_xyz")


# ------------------------------------------------------------------ StructuredData / coercion


def test_structured_data_attribute_access() -> None:
    data = StructuredData(role="user", content={"text": "hi"})
    assert data.role == "user"
    assert data.model_dump() == {"role": "user", "content": {"text": "hi"}}


def test_coerce_nested_recurses_through_dicts_and_lists() -> None:
    value = coerce_nested({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "n": 1})
    assert isinstance(value, StructuredData)
    assert value.messages[0].content.text == "hi"
    assert value.n == 1


def test_coerce_nested_keeps_models_and_scalars() -> None:
    class Existing(BaseModel):
        x: int = 1

    model = Existing()
    assert coerce_nested(model) is model
    assert coerce_nested("s") == "s"
    assert coerce_nested([1, {"a": 2}])[1].a == 2


def test_coerce_nested_depth_limit_leaves_deep_values_raw() -> None:
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(25):
        deep = {"d": deep}
    node: Any = coerce_nested(deep)
    depth = 0
    while isinstance(node, StructuredData):
        node = node.d
        depth += 1
    assert depth == 20
    assert isinstance(node, dict)


def test_coerce_nested_breadth_limit(caplog: pytest.LogCaptureFixture) -> None:
    wide = {f"k{i}": i for i in range(501)}
    with caplog.at_level(logging.WARNING):
        assert coerce_nested(wide) is wide
    assert caplog.records
    ok = {f"k{i}": i for i in range(500)}
    assert isinstance(coerce_nested(ok), StructuredData)
    long_list = list(range(501))
    assert coerce_nested(long_list) is long_list


def test_coerce_messages_only_touches_dict_elements_of_lists() -> None:
    class Msg:
        role = "user"

    msg = Msg()
    out = coerce_messages([{"role": "assistant"}, msg, "text"])
    assert out[0].role == "assistant" and out[1] is msg and out[2] == "text"
    assert coerce_messages("not a list") == "not a list"
    assert coerce_messages({"role": "x"}) == {"role": "x"}


# ------------------------------------------------------------------ get_attr


def test_get_attr_quirks() -> None:
    class Obj:
        name = "n"
        zero = 0
        empty = ""

    assert get_attr(None, "x", "d") == "d"
    assert get_attr(Obj(), "name") == "n"
    assert get_attr(Obj(), "zero", "d") == "d"  # falsy attribute -> default
    assert get_attr(Obj(), "empty") == ""
    assert get_attr(Obj(), "missing", 5) == 5
    assert get_attr({"k": "v"}, "k") == "v"
    assert get_attr({"k": []}, "k", "d") == "d"
    assert get_attr({"k": "v"}, "other") == ""
    assert get_attr(42, "k", "d") == "d"


# ------------------------------------------------------------------ ORJSONResponse


def test_orjson_response() -> None:
    pytest.importorskip("fastapi")
    from fastapi.responses import JSONResponse

    from cpex.framework.utils import ORJSONResponse

    response = ORJSONResponse(content={"status": "ok", 1: "non-str key"})
    assert isinstance(response, JSONResponse)
    assert response.media_type == "application/json"
    assert response.body == b'{"status":"ok","1":"non-str key"}'


# ------------------------------------------------- the public helper agrees with the core




async def test_payload_matches_agrees_with_the_core_scheduler() -> None:
    # utils.payload_matches is the host-side API; the executor's filtering is decided by the
    # Go core. Both implement spec §12 and must agree on every case.
    from cpex.framework import Plugin, PluginResult
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.manager import PluginExecutor
    from cpex.framework.models import PluginConfig

    class Allow(Plugin):
        async def tool_pre_invoke(self, payload: Any, context: Any) -> PluginResult:
            return PluginResult()

        async def prompt_pre_fetch(self, payload: Any, context: Any) -> PluginResult:
            return PluginResult()

    conditions = [
        [],
        [PluginCondition(tools={"search"})],
        [PluginCondition(tools={"other"})],
        [PluginCondition(tools={"other"}), PluginCondition(server_ids={"s1"})],
        [PluginCondition(server_ids={"s2"})],
        [PluginCondition(tenant_ids={"t1"}, tools={"search"})],
        [PluginCondition(user_patterns=["ali"])],
        [PluginCondition(user_patterns=["bob"])],
        [PluginCondition(content_types=["application/json"])],
        [PluginCondition(prompts={"p9"})],
        [PluginCondition(tools=set(), server_ids=set())],
    ]
    contexts = [
        ctx(server_id="s1", tenant_id="t1", user="alice", content_type="Application/JSON; charset=utf-8"),
        ctx(server_id="s2", user={"bob": 1}),
        ctx(),
    ]
    cases = [
        ("tool_pre_invoke", ToolPreInvokePayload(name="search")),
        ("tool_pre_invoke", ToolPreInvokePayload(name="")),
        ("prompt_pre_fetch", PromptPrehookPayload(prompt_id="p9")),
    ]
    executor = PluginExecutor()
    checked = 0
    for hook, payload in cases:
        refs = []
        for i, conds in enumerate(conditions):
            config = PluginConfig(name=f"p{i}", kind="test.Allow", hooks=[hook], conditions=conds)
            refs.append(HookRef(hook, PluginRef(Allow(config))))
        for context in contexts:
            result, _ = await executor.execute(refs, payload, context, hook)
            ran = {record.plugin_name for record in result.executions}
            for i, conds in enumerate(conditions):
                expected = payload_matches(payload, hook, conds, context)
                assert (f"p{i}" in ran) is expected, (hook, payload, context, conds)
                checked += 1
    assert checked == len(cases) * len(contexts) * len(conditions)
