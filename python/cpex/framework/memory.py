"""Copy-on-write containers used to isolate what each plugin receives (spec §14).

The containers are eager snapshots: the constructor copies the original's items into
the container's *own* C-level storage and keeps no reference to the original. Code
that reads a dict or list through the C API (``PyDict_*`` from Rust or C extensions,
``json.dumps``, pydantic serialisers) therefore sees the real data, and no write can
reach the caller's object. Writes are tracked so that the executor can tell whether,
and what, a plugin changed.

Construction runs per plugin per hook call, so it is exactly the built-in C initialiser;
tracking state is created on the first write.
"""

from __future__ import annotations

import copy
import logging
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional, SupportsIndex, TypeVar, Union

from pydantic import BaseModel, RootModel
from pydantic_core import PydanticUndefined

logger = logging.getLogger(__name__)

_object_setattr = object.__setattr__

_T = TypeVar("_T", bound=BaseModel)

# Values shared as-is by the isolation helpers: immutable, or not meaningfully copyable.
_PRIMITIVES = (str, int, float, bool, bytes)
_WEAKREF_TYPES = (weakref.ProxyType, weakref.CallableProxyType, weakref.ReferenceType)
# Values handed to plugins as-is by _shared() (None is checked apart) / kept by _wrap_value().
_SHARED_TYPES = _PRIMITIVES + _WEAKREF_TYPES
_KEPT_TYPES = (*_WEAKREF_TYPES, BaseException)


class CopyOnWriteDict(dict):
    """A dict snapshot of ``original`` that records which keys were written or deleted."""

    __slots__ = ("_modified", "_deleted")

    # Insertion-ordered set of written keys (dict keys, values unused) and deleted keys.
    # Both slots stay unset until the first mutation: construction is then dict's own C
    # initialiser (one C-level copy, no Python frame), which matters on the hot path.
    _modified: dict[Any, None]
    _deleted: set[Any]

    if TYPE_CHECKING:

        def __init__(self, original: Mapping[Any, Any]) -> None: ...

    def _tracking(self) -> tuple[dict[Any, None], set[Any]]:
        try:
            return self._modified, self._deleted
        except AttributeError:
            self._modified = {}
            self._deleted = set()
            return self._modified, self._deleted

    # -- tracked mutations -------------------------------------------------------------

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        modified, deleted = self._tracking()
        modified[key] = None
        deleted.discard(key)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)  # raises KeyError when absent, before any tracking
        modified, deleted = self._tracking()
        deleted.add(key)
        modified.pop(key, None)

    def update(self, other: Any = None, /, **kwargs: Any) -> None:
        if other is not None:
            if hasattr(other, "keys"):
                for key in other.keys():  # noqa: SIM118 - the dict.update protocol: keys(), not iter()
                    self[key] = other[key]
            else:
                for key, value in other:
                    self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return dict.__getitem__(self, key)
        self[key] = default
        return default

    def pop(self, key: Any, *default: Any) -> Any:
        if len(default) > 1:
            raise TypeError(f"pop() accepts 1 or 2 arguments (a key and an optional default), got {len(default) + 1}")
        if key in self:
            value = dict.__getitem__(self, key)
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        modified, deleted = self._tracking()
        deleted.add(key)
        modified.pop(key, None)
        return key, value

    def clear(self) -> None:
        modified, deleted = self._tracking()
        deleted.update(dict.keys(self))
        modified.clear()
        dict.clear(self)

    def __ior__(self, other: Any) -> CopyOnWriteDict:  # type: ignore[misc]
        self.update(other)
        return self

    # -- tracking queries --------------------------------------------------------------

    def get_modifications(self) -> dict[Any, Any]:
        """Written keys that are still present, with their current values, in first-write order."""
        modified = getattr(self, "_modified", None)
        if not modified:
            return {}
        return {key: dict.__getitem__(self, key) for key in modified if key in self}

    def get_deleted(self) -> set[Any]:
        """A copy of the set of deleted keys."""
        return set(getattr(self, "_deleted", ()))

    def has_modifications(self) -> bool:
        """Whether anything was written or deleted since construction."""
        return bool(getattr(self, "_modified", None)) or bool(getattr(self, "_deleted", None))

    # -- copying, comparison, display --------------------------------------------------

    def copy(self) -> dict[Any, Any]:
        """A plain dict snapshot of the current data."""
        return dict(self)

    def __copy__(self) -> CopyOnWriteDict:
        clone = CopyOnWriteDict(self)
        modified, deleted = self._tracking()
        clone._modified = dict(modified)
        clone._deleted = set(deleted)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> CopyOnWriteDict:
        clone = CopyOnWriteDict({})
        memo[id(self)] = clone
        for key, value in dict.items(self):
            # dict.__setitem__: copying must not mark anything as modified.
            dict.__setitem__(clone, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        modified, deleted = self._tracking()
        clone._modified = copy.deepcopy(modified, memo)
        clone._deleted = copy.deepcopy(deleted, memo)
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        # Without this, pickle would rebuild through __setitem__ and mark every key modified.
        modified, deleted = self._tracking()
        return (_rebuild_dict, (dict(self), list(modified), set(deleted)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return dict.__eq__(self, other)
        if isinstance(other, Mapping):
            return dict.__eq__(self, dict(other.items()))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __repr__(self) -> str:
        return f"CopyOnWriteDict({dict.__repr__(self)})"


def _rebuild_dict(data: dict[Any, Any], modified: list[Any], deleted: set[Any]) -> CopyOnWriteDict:
    clone = CopyOnWriteDict(data)
    clone._modified = dict.fromkeys(modified)
    clone._deleted = deleted
    return clone


class CopyOnWriteList(list):
    """A list snapshot of ``original`` with a single "was mutated" flag.

    Every mutating method sets the flag *before* delegating, so an attempted mutation
    that fails (``remove`` of a missing value) still counts as one.
    """

    __slots__ = ("_modified",)

    # Unset until the first mutation (construction is list's own C initialiser).
    _modified: bool

    if TYPE_CHECKING:

        def __init__(self, original: Iterable[Any]) -> None: ...

    def __setitem__(self, index: Any, value: Any) -> None:
        self._modified = True
        list.__setitem__(self, index, value)

    def __delitem__(self, index: Any) -> None:
        self._modified = True
        list.__delitem__(self, index)

    def __iadd__(self, other: Iterable[Any]) -> CopyOnWriteList:  # type: ignore[misc]
        self._modified = True
        list.extend(self, other)
        return self

    def __imul__(self, count: SupportsIndex) -> CopyOnWriteList:
        self._modified = True
        list.__imul__(self, count)
        return self

    def append(self, value: Any) -> None:
        self._modified = True
        list.append(self, value)

    def extend(self, values: Iterable[Any]) -> None:
        self._modified = True
        list.extend(self, values)

    def insert(self, index: SupportsIndex, value: Any) -> None:
        self._modified = True
        list.insert(self, index, value)

    def remove(self, value: Any) -> None:
        self._modified = True
        list.remove(self, value)

    def pop(self, index: SupportsIndex = -1) -> Any:
        self._modified = True
        return list.pop(self, index)

    def clear(self) -> None:
        self._modified = True
        list.clear(self)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        self._modified = True
        list.sort(self, key=key, reverse=reverse)

    def reverse(self) -> None:
        self._modified = True
        list.reverse(self)

    def has_modifications(self) -> bool:
        """Whether any mutating method was called since construction."""
        return getattr(self, "_modified", False)

    def copy(self) -> list[Any]:
        """A plain list snapshot of the current data."""
        return list(self)

    def __copy__(self) -> CopyOnWriteList:
        clone = CopyOnWriteList(self)
        clone._modified = self.has_modifications()
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> CopyOnWriteList:
        clone = CopyOnWriteList(())
        memo[id(self)] = clone
        list.extend(clone, [copy.deepcopy(item, memo) for item in list.__iter__(self)])
        clone._modified = self.has_modifications()
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_list, (list(self), self.has_modifications()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return list.__eq__(self, other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __repr__(self) -> str:
        return f"CopyOnWriteList({list.__repr__(self)})"


def _rebuild_list(data: list[Any], modified: bool) -> CopyOnWriteList:
    clone = CopyOnWriteList(data)
    clone._modified = modified
    return clone


# -- model fast paths ------------------------------------------------------------------
#
# pydantic's model_copy(update=...) and model_construct() are pure Python and cost
# 3-9 us; these run per plugin per hook call. The helpers below produce the same
# instance state (__dict__, fields set, extra, private) directly. Models whose
# semantics they would not reproduce (extra="allow" copies that route unknown keys
# into extras, private attributes on construction) take pydantic's own path.


def copy_model(model: _T, update: dict[str, Any]) -> _T:
    """``model.model_copy(update=update)``: a shallow copy with ``update`` applied unvalidated."""
    cls = type(model)
    if cls.model_config.get("extra") == "allow":
        return model.model_copy(update=update)
    clone = _new(cls)
    values = model.__dict__.copy()
    values.update(update)
    _set_dict(clone, values)
    fields_set = set(model.__pydantic_fields_set__)
    fields_set.update(update)
    _set_fields_set(clone, fields_set)
    extra = model.__pydantic_extra__
    _set_extra(clone, None if extra is None else dict(extra))
    private = model.__pydantic_private__
    if private is not None:
        private = {k: v for k, v in private.items() if v is not PydanticUndefined}
    _set_private(clone, private)
    return clone


# BaseModel's slot descriptors, called directly (cheaper than object.__setattr__ by name).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def construct_model(cls: type[_T], defaults: dict[str, Any], values: dict[str, Any]) -> _T:
    """``cls.model_construct(**values)`` for a model without private attributes.

    ``defaults`` must map every field of ``cls`` to its default (callers precompute it
    once per class); ``values`` are trusted, already validated field values.
    """
    if cls.__private_attributes__:
        return cls.model_construct(**values)
    instance = cls.__new__(cls)
    data = defaults.copy()
    data.update(values)
    _object_setattr(instance, "__dict__", data)
    _object_setattr(instance, "__pydantic_fields_set__", set(values))
    _object_setattr(instance, "__pydantic_extra__", None)
    _object_setattr(instance, "__pydantic_private__", None)
    return instance


def _construct_root(cls: type[_T], root: Any) -> _T:
    return construct_model(cls, _NO_DEFAULTS, {"root": root})


_NO_DEFAULTS: dict[str, Any] = {}


def copyonwrite(o: Union[dict[Any, Any], list[Any]]) -> Union[CopyOnWriteDict, CopyOnWriteList]:
    """A copy-on-write snapshot of a dict or a list."""
    if isinstance(o, dict):
        return CopyOnWriteDict(o)
    if isinstance(o, list):
        return CopyOnWriteList(o)
    raise TypeError(f"No copy-on-write wrapper available for {type(o).__name__}: copyonwrite() supports dict and list")


def _safe_deepcopy(value: Any) -> Any:
    """``copy.deepcopy(value)``, or ``value`` itself (with a warning) when it cannot be copied."""
    try:
        return copy.deepcopy(value)
    except Exception as exc:  # noqa: BLE001 - any failure means "share it"
        logger.warning("Cannot deep-copy a %s for plugin isolation, sharing reference: %r", type(value).__name__, exc)
        return value


def _isolate_root(value: Any) -> Any:
    if isinstance(value, dict):
        return CopyOnWriteDict(value)
    if isinstance(value, list):
        return CopyOnWriteList(value)
    return _safe_deepcopy(value)


def _shared(value: Any) -> bool:
    """Whether a field value is handed to plugins as-is (None, primitives, weak references)."""
    return value is None or isinstance(value, _SHARED_TYPES)


def _wrap_value(value: Any) -> Any:
    """The isolated counterpart of one payload field value (one level deep, §14.3)."""
    if value is None or isinstance(value, _PRIMITIVES):
        return value
    # Containers first: they are the common case and cheaper to test than the
    # ABC-backed model classes below (the categories do not overlap).
    if isinstance(value, dict):
        return CopyOnWriteDict(value)
    if isinstance(value, list):
        return CopyOnWriteList(value)
    if isinstance(value, _KEPT_TYPES):
        return value
    if isinstance(value, RootModel):
        return _construct_root(type(value), _isolate_root(value.root))
    if isinstance(value, BaseModel):
        return wrap_payload_for_isolation(value)
    return _safe_deepcopy(value)


def wrap_payload_for_isolation(payload: _T) -> _T:
    """A shallow copy of ``payload`` whose container fields are private copy-on-write snapshots.

    Top-level containers become private to the receiving plugin; objects nested deeper
    are shared. Returns ``payload`` itself when no field needed wrapping.
    """
    if isinstance(payload, RootModel):
        return _construct_root(type(payload), _isolate_root(payload.root))
    update: Optional[dict[str, Any]] = None
    # __dict__ holds exactly the declared fields of a pydantic v2 model instance.
    for name, value in payload.__dict__.items():
        # exact dicts and lists first (the common fields); anything else as _wrap_value says
        kind = type(value)
        if kind is dict:
            wrapped: Any = CopyOnWriteDict(value)
        elif kind is list:
            wrapped = CopyOnWriteList(value)
        elif value is None or isinstance(value, _SHARED_TYPES):  # _shared, inlined (per plugin call)
            continue
        else:
            wrapped = _wrap_value(value)
        if update is None:
            update = {}
        update[name] = wrapped
    if update is None:
        return payload
    return copy_model(payload, update)
