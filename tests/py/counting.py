"""A plugin's call counts per outcome on one hook, read from the process metrics registry
(cpex.framework.metrics.snapshot): the single-path tests compare the fast and the general
path by what they counted."""

from __future__ import annotations

from cpex.framework import metrics as cpex_metrics


def outcome_counts(plugin: str, hook: str) -> dict[str, int]:
    """{outcome: calls} of plugin on hook, outcomes never counted left out."""
    snap = cpex_metrics.snapshot()
    for s in snap["plugins"]:
        if s["plugin"] == plugin and s["hook"] == hook:
            return {o: int(n) for o, n in zip(snap["outcomes"], s["calls"], strict=True) if n}
    return {}
