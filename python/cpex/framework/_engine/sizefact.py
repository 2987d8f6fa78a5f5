"""The payload-size fact of RunStart: ``len(str(value))``, without writing the text.

The core's size rule (spec §11.1 step 2) compares ``sum(len(str(v)) for v in
args.values())`` (or ``len(str(result))``) with 1,000,000 and names the exact number in
its error. ``str()`` of a container writes the repr of every string in it, character by
character: 2 ms of held GIL for a 1 MB payload, a stall of every other request on the
loop, while the length of a string's repr can mostly be read off C-speed scans.

``str_len`` gives exactly ``len(str(value))``. It walks plain JSON-like trees (exact
``dict``/``list``/``str``/``int``/``float``/``bool``/``None``, at most ``_NODE_BUDGET``
nodes, no container inside itself) and adds the repr lengths of their parts; anything
else, and any tree past the budget, is measured by ``str()`` itself. A long ASCII
string's repr length is its length, the two quotes and one backslash per escaped quote
or backslash, unless it holds a control character: those strings, and every non-ASCII
one, get ``len(repr(s))``.
"""

from __future__ import annotations

from typing import Any

import orjson

# A tree with more nodes than this is measured by str() (C code): past it the walk's
# Python cost per node would outweigh what it saves on the strings.
_NODE_BUDGET = 64
# Strings shorter than this are measured by repr() (cheaper than the scans below).
_LONG = 512
# A container of at most this many items, none a container or a long string, is
# measured by str() without a walk.
_SHALLOW = 8
_SCALARS = frozenset({int, float, bool, type(None)})


class _NotPlain(Exception):
    """The tree is not one the walk measures: str() does."""


def str_len(value: Any) -> int:
    """``len(str(value))``."""
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is dict or kind is list:
        if len(value) <= _SHALLOW:
            # A few scalars and short strings (the common small payload): str() is cheap.
            for item in value.values() if kind is dict else value:
                sub = type(item)
                if sub is dict or sub is list or (sub is str and len(item) >= _LONG):
                    break
            else:
                return len(str(value))
        try:
            return _Walk().repr_len(value)
        except _NotPlain:
            pass
    return len(str(value))


class _Walk:
    """One measurement: the node budget left and the containers being measured."""

    __slots__ = ("budget", "parents")

    def __init__(self) -> None:
        self.budget = _NODE_BUDGET
        self.parents: list[int] = []

    def repr_len(self, value: Any) -> int:
        """``len(repr(value))`` of a plain list or dict; raises _NotPlain otherwise."""
        if not value:
            return 2  # [] or {}
        ident = id(value)
        if ident in self.parents:  # repr writes [...] / {...} here: leave it to str()
            raise _NotPlain
        self.budget -= len(value)
        if self.budget < 0:
            raise _NotPlain
        self.parents.append(ident)
        n = 2 + 2 * (len(value) - 1)  # the brackets, and ", " between items
        if type(value) is list:
            for item in value:
                n += self.item_len(item)
        else:
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotPlain
                n += _str_repr_len(key) + 2 + self.item_len(item)  # "key: item"
        self.parents.pop()
        return n

    def item_len(self, item: Any) -> int:
        kind = type(item)
        if kind is str:
            return _str_repr_len(item)
        if kind in _SCALARS:
            return len(repr(item))
        if kind is dict or kind is list:
            return self.repr_len(item)
        raise _NotPlain


def _str_repr_len(s: str) -> int:
    """``len(repr(s))``. repr quotes with ' (with " when s holds ' and no "), and
    escapes the quote, the backslash and every character that is not printable (for
    ASCII: below space, and DEL). orjson's JSON escapes exactly the ASCII characters
    below space besides " and the backslash, so a JSON text longer than those two
    account for reveals a control character."""
    if len(s) < _LONG or not s.isascii():
        return len(repr(s))
    backslashes = s.count("\\") if "\\" in s else 0
    dquotes = s.count('"') if '"' in s else 0
    if len(orjson.dumps(s)) != len(s) + 2 + backslashes + dquotes or "\x7f" in s:
        return len(repr(s))
    quotes = s.count("'") if dquotes and "'" in s else 0
    return len(s) + 2 + backslashes + quotes
