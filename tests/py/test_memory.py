"""Copy-on-write containers and payload isolation (spec §14, gateway-contract §3)."""

from __future__ import annotations

import copy
import json
import pickle
import weakref
from collections import OrderedDict
from typing import Any, Optional

import pytest
from pydantic import BaseModel, RootModel

from cpex.framework.hooks.http import HttpHeaderPayload
from cpex.framework.hooks.tools import ToolPreInvokePayload
from cpex.framework.memory import (
    CopyOnWriteDict,
    CopyOnWriteList,
    _safe_deepcopy,
    _wrap_value,
    copyonwrite,
    wrap_payload_for_isolation,
)

# --- CopyOnWriteDict ------------------------------------------------------------------


def test_cow_dict_is_a_real_dict_whose_c_storage_holds_the_snapshot() -> None:
    d = CopyOnWriteDict({"a": 1, "b": {"x": 2}})
    assert isinstance(d, dict)
    # C-level consumers (json, dict(), PyDict iteration) see the data, not an empty shell.
    assert json.dumps(d) == '{"a": 1, "b": {"x": 2}}'
    assert dict(d) == {"a": 1, "b": {"x": 2}}
    assert len(d) == 2 and "a" in d and list(reversed(d)) == ["b", "a"]
    assert dict.__len__(d) == 2


def test_cow_dict_is_an_eager_snapshot_without_back_reference() -> None:
    original = {"a": 1}
    d = CopyOnWriteDict(original)
    original["a"] = 99
    original["late"] = True
    d["b"] = 2
    assert d == {"a": 1, "b": 2}
    assert original == {"a": 99, "late": True}


def test_cow_dict_starts_unmodified() -> None:
    d = CopyOnWriteDict({"a": 1})
    assert not d.has_modifications()
    assert d.get_modifications() == {}
    assert d.get_deleted() == set()


def test_cow_dict_setitem_marks_modified_in_first_write_order() -> None:
    d = CopyOnWriteDict({"a": 1})
    d["z"] = 1
    d["a"] = 2
    d["z"] = 3
    assert list(d.get_modifications().items()) == [("z", 3), ("a", 2)]
    assert d.has_modifications()


def test_cow_dict_delete_marks_deleted_and_unmarks_modified() -> None:
    d = CopyOnWriteDict({"a": 1})
    d["a"] = 2
    del d["a"]
    assert d.get_modifications() == {}
    assert d.get_deleted() == {"a"}
    assert d.has_modifications()


def test_cow_dict_write_after_delete_unmarks_deleted() -> None:
    d = CopyOnWriteDict({"a": 1})
    del d["a"]
    d["a"] = 5
    assert d.get_deleted() == set()
    assert d.get_modifications() == {"a": 5}


def test_cow_dict_delete_of_missing_key_raises_and_tracks_nothing() -> None:
    d = CopyOnWriteDict({})
    with pytest.raises(KeyError):
        del d["missing"]
    assert not d.has_modifications()


def test_cow_dict_get_deleted_returns_a_copy() -> None:
    d = CopyOnWriteDict({"a": 1})
    del d["a"]
    d.get_deleted().add("other")
    assert d.get_deleted() == {"a"}


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (({"a": 1},), {}, {"a": 1}),
        (([("a", 1)],), {}, {"a": 1}),
        ((), {"a": 1}, {"a": 1}),
        ((OrderedDict(b=2),), {"c": 3}, {"b": 2, "c": 3}),
    ],
)
def test_cow_dict_update_tracks_every_written_key(
    args: tuple[Any, ...], kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    d = CopyOnWriteDict({"keep": 0})
    d.update(*args, **kwargs)
    assert d.get_modifications() == expected
    assert d == {"keep": 0, **expected}


def test_cow_dict_setdefault_tracks_only_insertions() -> None:
    d = CopyOnWriteDict({"a": 1})
    assert d.setdefault("a", 5) == 1
    assert not d.has_modifications()
    assert d.setdefault("b", 7) == 7
    assert d.get_modifications() == {"b": 7}


def test_cow_dict_pop_tracks_deletion_and_supports_default() -> None:
    d = CopyOnWriteDict({"a": 1})
    assert d.pop("a") == 1
    assert d.get_deleted() == {"a"}
    assert d.pop("a", "dflt") == "dflt"
    with pytest.raises(KeyError):
        d.pop("a")


def test_cow_dict_pop_rejects_more_than_one_default() -> None:
    d = CopyOnWriteDict({"a": 1})
    with pytest.raises(TypeError):
        d.pop("a", 1, 2)
    assert d == {"a": 1}


def test_cow_dict_popitem_tracks_deletion() -> None:
    d = CopyOnWriteDict({"a": 1, "b": 2})
    assert d.popitem() == ("b", 2)
    assert d.get_deleted() == {"b"}
    d.popitem()
    with pytest.raises(KeyError):
        d.popitem()


def test_cow_dict_clear_marks_all_current_keys_deleted() -> None:
    d = CopyOnWriteDict({"a": 1, "b": 2})
    d["c"] = 3
    d.clear()
    assert d == {}
    assert d.get_deleted() == {"a", "b", "c"}
    assert d.get_modifications() == {}


def test_cow_dict_inplace_or_goes_through_tracking() -> None:
    d = CopyOnWriteDict({"a": 1})
    d |= {"b": 2}
    assert isinstance(d, CopyOnWriteDict)
    assert d.get_modifications() == {"b": 2}


def test_cow_dict_copy_is_a_plain_dict() -> None:
    d = CopyOnWriteDict({"a": 1})
    c = d.copy()
    assert type(c) is dict and c == {"a": 1}


def test_cow_dict_equality_with_any_mapping_and_not_with_others() -> None:
    d = CopyOnWriteDict({"a": 1})
    assert d == {"a": 1}
    assert d == OrderedDict(a=1)
    assert d == CopyOnWriteDict({"a": 1})
    assert d != {"a": 2}
    assert d.__eq__([("a", 1)]) is NotImplemented
    assert d != [("a", 1)]


def test_cow_dict_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(CopyOnWriteDict({}))


def test_cow_dict_copy_and_deepcopy_preserve_tracking_without_adding_to_it() -> None:
    d = CopyOnWriteDict({"a": [1], "b": 2})
    d["c"] = 3
    del d["b"]
    shallow = copy.copy(d)
    deep = copy.deepcopy(d)
    for clone in (shallow, deep):
        assert isinstance(clone, CopyOnWriteDict)
        assert clone == {"a": [1], "c": 3}
        assert clone.get_modifications() == {"c": 3}
        assert clone.get_deleted() == {"b"}
    assert shallow["a"] is d["a"]
    assert deep["a"] is not d["a"]


def test_cow_dict_copy_of_untouched_dict_is_untouched() -> None:
    assert not copy.deepcopy(CopyOnWriteDict({"a": 1})).has_modifications()
    assert not copy.copy(CopyOnWriteDict({"a": 1})).has_modifications()


def test_cow_dict_pickle_round_trip_keeps_tracking() -> None:
    d = CopyOnWriteDict({"a": 1})
    d["b"] = 2
    clone = pickle.loads(pickle.dumps(d))
    assert isinstance(clone, CopyOnWriteDict)
    assert clone.get_modifications() == {"b": 2}


def test_cow_dict_repr() -> None:
    assert repr(CopyOnWriteDict({"a": 1})) == "CopyOnWriteDict({'a': 1})"


def test_cow_dict_in_pydantic_model_dump_sees_the_data() -> None:
    class M(BaseModel):
        d: dict[str, Any]

    m = M.model_construct(d=CopyOnWriteDict({"k": "v"}))
    assert m.model_dump() == {"d": {"k": "v"}}
    assert json.loads(m.model_dump_json()) == {"d": {"k": "v"}}


# --- CopyOnWriteList ------------------------------------------------------------------


def test_cow_list_is_a_real_list_snapshot() -> None:
    original = [1, 2]
    cow = CopyOnWriteList(original)
    original.append(3)
    assert isinstance(cow, list)
    assert json.dumps(cow) == "[1, 2]"
    assert not cow.has_modifications()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda lst: lst.__setitem__(0, 9),
        lambda lst: lst.__delitem__(0),
        lambda lst: lst.__iadd__([4]),
        lambda lst: lst.__imul__(2),
        lambda lst: lst.append(4),
        lambda lst: lst.extend([4]),
        lambda lst: lst.insert(0, 4),
        lambda lst: lst.remove(1),
        lambda lst: lst.pop(),
        lambda lst: lst.clear(),
        lambda lst: lst.sort(),
        lambda lst: lst.reverse(),
    ],
)
def test_cow_list_every_mutator_sets_the_flag(mutate: Any) -> None:
    cow = CopyOnWriteList([3, 1, 2])
    mutate(cow)
    assert cow.has_modifications()


def test_cow_list_failed_remove_still_counts_as_modification() -> None:
    cow = CopyOnWriteList([1])
    with pytest.raises(ValueError):
        cow.remove(42)
    assert cow.has_modifications()
    assert cow == [1]


def test_cow_list_augmented_assignment_keeps_type() -> None:
    cow = CopyOnWriteList([1])
    cow += [2]
    cow *= 2
    assert isinstance(cow, CopyOnWriteList)
    assert cow == [1, 2, 1, 2]


def test_cow_list_copy_is_plain_list_and_equality_only_with_lists() -> None:
    cow = CopyOnWriteList([1, 2])
    assert type(cow.copy()) is list
    assert cow == [1, 2]
    assert cow.__eq__((1, 2)) is NotImplemented
    assert cow != (1, 2)
    with pytest.raises(TypeError):
        hash(cow)
    assert repr(cow) == "CopyOnWriteList([1, 2])"


def test_cow_list_copy_and_deepcopy_preserve_flag() -> None:
    cow = CopyOnWriteList([[1]])
    assert not copy.copy(cow).has_modifications()
    cow.append([2])
    shallow, deep = copy.copy(cow), copy.deepcopy(cow)
    assert shallow.has_modifications() and deep.has_modifications()
    assert shallow[0] is cow[0] and deep[0] is not cow[0]
    assert pickle.loads(pickle.dumps(cow)).has_modifications()


# --- helpers ----------------------------------------------------------------------------


def test_copyonwrite_dispatches_by_type() -> None:
    assert type(copyonwrite({"a": 1})) is CopyOnWriteDict
    assert type(copyonwrite([1])) is CopyOnWriteList
    with pytest.raises(TypeError):
        copyonwrite((1, 2))  # type: ignore[arg-type]


def test_safe_deepcopy_copies_or_shares_uncopyable_values(caplog: pytest.LogCaptureFixture) -> None:
    nested = {"a": [1]}
    assert _safe_deepcopy(nested) == nested and _safe_deepcopy(nested) is not nested

    class Uncopyable:
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            raise RuntimeError("no")

    obj = Uncopyable()
    assert _safe_deepcopy(obj) is obj
    assert "deep-copy" in caplog.text


def test_wrap_value_shares_primitives_exceptions_and_weakref_proxies() -> None:
    class Target:
        pass

    target = Target()
    proxy = weakref.proxy(target)
    exc = ValueError("boom")
    for value in ("s", 1, 1.5, True, b"b", None, exc):
        assert _wrap_value(value) is value
    assert _wrap_value(proxy) is proxy


def test_wrap_value_wraps_containers_models_and_deep_copies_the_rest() -> None:
    assert type(_wrap_value({"a": 1})) is CopyOnWriteDict
    assert type(_wrap_value([1])) is CopyOnWriteList
    tup = ([1],)
    copied = _wrap_value(tup)
    assert copied == tup and copied[0] is not tup[0]
    inner = ToolPreInvokePayload(name="t", args={"x": 1})
    wrapped = _wrap_value(inner)
    assert wrapped is not inner and type(wrapped.args) is CopyOnWriteDict


class _Doc(BaseModel):
    title: str
    tags: list[str]
    meta: dict[str, Any]
    note: Optional[str] = None


def test_wrap_payload_isolates_top_level_containers() -> None:
    payload = ToolPreInvokePayload(name="tool", args={"q": {"deep": 1}})
    wrapped = wrap_payload_for_isolation(payload)
    assert type(wrapped) is ToolPreInvokePayload
    assert type(wrapped.args) is CopyOnWriteDict
    wrapped.args["q2"] = "added"
    assert "q2" not in payload.args
    # One level deep only: nested objects are shared.
    assert wrapped.args["q"] is payload.args["q"]


def test_wrap_payload_returns_same_object_when_nothing_needs_wrapping() -> None:
    payload = ToolPreInvokePayload(name="tool", args=None)
    assert wrap_payload_for_isolation(payload) is payload


def test_wrap_payload_handles_plain_models_with_lists() -> None:
    doc = _Doc(title="t", tags=["a"], meta={"k": 1})
    wrapped = wrap_payload_for_isolation(doc)
    assert type(wrapped.tags) is CopyOnWriteList and type(wrapped.meta) is CopyOnWriteDict
    wrapped.tags.append("b")
    assert doc.tags == ["a"]
    assert wrapped.title == "t" and wrapped.note is None


def test_wrap_payload_rootmodel_gets_cow_root_and_dump_sees_data() -> None:
    headers = HttpHeaderPayload({"Authorization": "secret"})
    wrapped = wrap_payload_for_isolation(headers)
    assert type(wrapped) is HttpHeaderPayload
    assert type(wrapped.root) is CopyOnWriteDict
    assert wrapped.model_dump() == {"Authorization": "secret"}
    wrapped["X-New"] = "1"
    assert "X-New" not in headers.root
    assert wrapped.root.get_modifications() == {"X-New": "1"}


def test_wrap_payload_rootmodel_list_and_scalar_roots() -> None:
    class Items(RootModel[list[int]]):
        pass

    class Scalar(RootModel[str]):
        pass

    items = wrap_payload_for_isolation(Items([1, 2]))
    assert type(items.root) is CopyOnWriteList and items.root == [1, 2]
    assert wrap_payload_for_isolation(Scalar("x")).root == "x"


def test_wrap_payload_nested_rootmodel_field() -> None:
    with pytest.warns(DeprecationWarning):
        payload = ToolPreInvokePayload(name="t", headers=HttpHeaderPayload({"a": "b"}))
    wrapped = wrap_payload_for_isolation(payload)
    assert wrapped.headers is not payload.headers
    assert type(wrapped.headers.root) is CopyOnWriteDict
    wrapped.headers["c"] = "d"
    assert payload.headers.root == {"a": "b"}


# --- model fast paths ------------------------------------------------------------------


class _WithPrivate(BaseModel):
    a: int
    b: list[int] = []
    _secret: str = "s"


class _Extra(BaseModel):
    model_config = {"extra": "allow"}
    a: int


def test_copy_model_matches_model_copy() -> None:
    from cpex.framework.memory import copy_model

    original = _WithPrivate(a=1)
    original._secret = "changed"
    fast = copy_model(original, {"b": [2]})
    slow = original.model_copy(update={"b": [2]})
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set == {"a", "b"}
    assert fast._secret == "changed"
    assert original.b == [] and fast.__dict__ is not original.__dict__


def test_copy_model_routes_extra_allow_models_through_pydantic() -> None:
    from cpex.framework.memory import copy_model

    fast = copy_model(_Extra(a=1, z=2), {"y": 3})
    assert fast == _Extra(a=1, z=2).model_copy(update={"y": 3})


def test_construct_model_matches_model_construct() -> None:
    from cpex.framework.memory import construct_model

    fast = construct_model(_Doc, {"title": "", "tags": [], "meta": {}, "note": None}, {"title": "t"})
    assert fast == _Doc.model_construct(title="t", tags=[], meta={}, note=None)
    assert fast.model_fields_set == {"title"}
    private = construct_model(_WithPrivate, {"a": 0, "b": []}, {"a": 5})
    assert private.a == 5 and private._secret == "s"
