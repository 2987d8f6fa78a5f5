"""What the single-path tests count: a plugin's calls per outcome in the process metrics
registry, and the crossings the driver makes into the extension. The fast and the
general path are compared by both."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from cpex.framework import metrics as cpex_metrics
from cpex.framework._engine import wire


def outcome_counts(plugin: str, hook: str) -> dict[str, int]:
    """{outcome: calls} of plugin on hook (cpex.framework.metrics.snapshot), outcomes
    never counted left out."""
    snap = cpex_metrics.snapshot()
    for s in snap["plugins"]:
        if s["plugin"] == plugin and s["hook"] == hook:
            return {o: int(n) for o, n in zip(snap["outcomes"], s["calls"], strict=True) if n}
    return {}


def count_crossings(monkeypatch: pytest.MonkeyPatch, names: Iterable[str]) -> Counter[str]:
    """Wraps the named wire functions for the test; the counter counts their calls."""
    seen: Counter[str] = Counter()
    for name in names:
        real = getattr(wire, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            seen[_name] += 1
            return _real(*args)

        monkeypatch.setattr(wire, name, counted)
    return seen
