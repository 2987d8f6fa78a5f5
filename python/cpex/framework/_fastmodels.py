"""``model_copy`` of a payload without pydantic's pure-Python detours.

Plugins copy their payload with an update on every call that modifies it
(``payload.model_copy(update={"args": ...})``: the header injection, the published
Rust/PyO3 PII filter, every redacting plugin). pydantic's ``model_copy`` goes through its
``__copy__`` (``copy.copy`` three times, ``hasattr``) and then writes the update: about
21 k instructions, a quarter of the PII filter's own call. This builds the same object
(``__dict__`` in field order with the update applied unvalidated, the fields set, the
extra and private attributes) directly: about 15 k. Deep copies, models whose extras
take unknown keys (extra="allow") and models with their own ``__copy__`` keep pydantic's
path. tests/py/test_fastmodels.py compares both, object for object, on the installed
pydantic (``make test-pydantic-range`` runs it at both ends of the supported range).

A fast ``PluginResult.__init__`` was measured too and left out: pydantic-core's validator
costs about as much as the Python-level checks that would replace it (11.7 k against
12.3 k instructions for an empty result).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_base_copy = BaseModel.__copy__
_base_model_copy = BaseModel.model_copy


def payload_model_copy(self: Any, *, update: Optional[Mapping[str, Any]] = None, deep: bool = False) -> Any:
    """``BaseModel.model_copy`` for payload models: its shallow copy (``__copy__``, then
    the update written into ``__dict__`` and the fields set, unvalidated), directly."""
    cls: type[BaseModel] = type(self)
    if deep or cls.__copy__ is not _base_copy or cls.model_config.get("extra") == "allow":
        return _base_model_copy(self, update=update, deep=deep)
    clone = cls.__new__(cls)
    values = self.__dict__.copy()
    fields_set = set(self.__pydantic_fields_set__)
    if update:
        values.update(update)
        fields_set.update(update.keys())
    _set_dict(clone, values)
    extra = self.__pydantic_extra__
    _set_extra(clone, None if extra is None else extra.copy())
    _set_fields_set(clone, fields_set)
    private = getattr(self, "__pydantic_private__", None)
    if private is not None:
        private = {k: v for k, v in private.items() if v is not PydanticUndefined}
    _set_private(clone, private)
    return clone
