"""_goplugin._context_facts keeps the last facts text: every answer must be the text
built from the context as it is now, whatever changed in it since the last call."""

from __future__ import annotations

from typing import Any, Callable

import orjson
import pytest

from cpex.framework import GlobalContext, PluginContext, _goplugin

_Mutation = Callable[[GlobalContext], None]


class _Str(str):
    pass


def _set_user(value: Any) -> _Mutation:
    def apply(gc: GlobalContext) -> None:
        gc.user = value

    return apply


def _user_item(key: str, value: Any) -> _Mutation:
    def apply(gc: GlobalContext) -> None:
        assert isinstance(gc.user, dict)
        gc.user[key] = value

    return apply


def _field(name: str, value: Any) -> _Mutation:
    def apply(gc: GlobalContext) -> None:
        setattr(gc, name, value)

    return apply


MUTATIONS: list[tuple[str, _Mutation]] = [
    ("nothing", lambda gc: None),
    ("a bool becomes an equal int", _user_item("is_admin", 1)),
    ("an int becomes an equal float", _user_item("level", 1.0)),
    ("a value changes in place", _user_item("email", "b@example.com")),
    ("a key is added", _user_item("role", "ops")),
    ("keys reordered", _set_user({"is_admin": True, "email": "a@example.com", "level": 1})),
    ("a str subclass value", _user_item("email", _Str("a@example.com"))),
    ("a nested value", _user_item("groups", ["a"])),
    ("a non-str key", _set_user({1: "x", "email": "a@example.com"})),
    ("a str user", _set_user("alice")),
    ("no user", _set_user(None)),
    ("request id", _field("request_id", "other")),
    ("server id", _field("server_id", "s2")),
    ("tenant id", _field("tenant_id", "t")),
    ("content type", _field("content_type", "application/json")),
]


def _context() -> PluginContext:
    gc = GlobalContext(request_id="r", server_id="s", user={"email": "a@example.com", "is_admin": True, "level": 1})
    return PluginContext(global_context=gc)


@pytest.mark.parametrize("name,mutate", MUTATIONS, ids=[m[0] for m in MUTATIONS])
@pytest.mark.parametrize("timeout", [None, 30.0, 30])
def test_facts_follow_every_change_of_the_context(name: str, mutate: _Mutation, timeout: Any) -> None:
    ctx = _context()
    first = _goplugin._context_facts(ctx, timeout)
    assert first == _goplugin._facts_text(ctx.global_context, timeout)
    mutate(ctx.global_context)
    for _ in range(2):  # built, then (when it can be) from the kept entry
        got = _goplugin._context_facts(ctx, timeout)
        assert got == _goplugin._facts_text(ctx.global_context, timeout), name
    # nested values change in place too: they are never answered from the kept entry
    user = ctx.global_context.user
    if isinstance(user, dict) and isinstance(user.get("groups"), list):
        user["groups"].append("b")
        assert orjson.loads(_goplugin._context_facts(ctx, timeout))["user"] == orjson.loads(
            _goplugin._facts_text(ctx.global_context, timeout))["user"]


def test_a_timeout_change_is_a_new_text() -> None:
    ctx = _context()
    assert '"timeout":30.0' in _goplugin._context_facts(ctx, 30.0)
    assert '"timeout":60.0' in _goplugin._context_facts(ctx, 60.0)
    assert "timeout" not in _goplugin._context_facts(ctx, None)
