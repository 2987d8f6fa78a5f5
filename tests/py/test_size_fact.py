"""The payload-size fact (sizefact.str_len) is exactly len(str(value)), whatever the value."""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from typing import Any

import pytest

from cpex.framework._engine.sizefact import str_len

# Characters whose repr differs from the character: quotes, backslash, controls, DEL,
# non-printable and printable non-ASCII, a lone surrogate, an astral character.
_ODD = ["'", '"', "\\", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "\x85", "\xa0", "é", "\u2028", "\ud800", "😀", "\U000e0001"]


def _text(rng: random.Random, n: int, odd: float) -> str:
    chars = [rng.choice(_ODD) if rng.random() < odd else rng.choice("abc xyz019-") for _ in range(n)]
    return "".join(chars)


def _tree(rng: random.Random, depth: int) -> Any:
    pick = rng.random()
    if depth <= 0 or pick < 0.45:
        return rng.choice([
            _text(rng, rng.choice([0, 3, 511, 512, 600, 3000]), rng.choice([0.0, 0.0, 0.001, 0.05])),
            rng.randint(-(10**30), 10**30), rng.random() * 1e20, 1e16, -0.0, math.inf, math.nan,
            True, False, None,
        ])
    if pick < 0.75:
        return [_tree(rng, depth - 1) for _ in range(rng.randint(0, 6))]
    return {_text(rng, rng.randint(0, 8), 0.1): _tree(rng, depth - 1) for _ in range(rng.randint(0, 6))}


@pytest.mark.parametrize("seed", range(400))
def test_random_trees(seed: int) -> None:
    rng = random.Random(seed)
    value = _tree(rng, 4)
    assert str_len(value) == len(str(value))


@pytest.mark.parametrize("text", [
    "x" * 600,
    "it's " * 200,  # ' only: repr quotes with "
    "say \"hi\" it's " * 100,  # both quotes: ' escaped
    'say "hi" ' * 100,
    "a\\b " * 300,
    "line\n" * 200,
    "tab\t" * 200,
    "bell\x07" * 200,
    "del\x7f" * 200,
    "é" * 600,
    "\x85" * 600,
    "x" * 1000 + "\ud800",
])
def test_long_strings(text: str) -> None:
    for value in (text, [text], {"k": text}, {text: [text, {"n": 1}]}):
        assert str_len(value) == len(str(value))


class _Str(str):
    def __repr__(self) -> str:
        return "S"


class _Obj:
    def __repr__(self) -> str:
        return "<" + "o" * 700 + ">"


def test_what_the_walk_leaves_to_str() -> None:
    long = "y" * 2000
    cyclic: list[Any] = [long]
    cyclic.append(cyclic)
    inner: dict[str, Any] = {"t": long}
    inner["self"] = inner
    shared = [long]
    values: list[Any] = [
        cyclic,
        {"a": inner},
        [shared, shared, {"s": shared}],  # shared, not cyclic: printed in full each time
        [_Str(long), long],
        {"o": _Obj(), "t": long},
        {1: long, "k": long},
        (long, 1),
        [(long,), {long}, frozenset({"a"})],
        OrderedDict(a=long),
        [long] * 200,  # past the node budget
        [[[[[[[[long]]]]]]]],
        {"a": [long, 10**40, -1.5e-7, True, None]},
    ]
    for value in values:
        assert str_len(value) == len(str(value)), repr(value)[:80]


def test_top_level_str_is_its_length() -> None:
    assert str_len("it's\n") == len("it's\n")
    assert str_len(_Str("abc")) == len(str(_Str("abc")))
