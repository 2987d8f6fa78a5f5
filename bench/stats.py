"""Order statistics of per-call samples (no numpy: the driver must run without it)."""

from __future__ import annotations

import math
from typing import Any, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted sequence."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    if not s:
        raise ValueError("median of an empty sample")
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0


def summarize(samples: Sequence[float], round_medians: Sequence[float]) -> dict[str, Any]:
    """Median, p99 and friends of all samples of one side, plus the spread of its rounds."""
    s = sorted(samples)
    return {
        "n": len(s),
        "median_ns": median(s),
        "p99_ns": percentile(s, 99),
        "mean_ns": sum(s) / len(s),
        "min_ns": float(s[0]),
        "rounds": len(round_medians),
        "round_median_min_ns": min(round_medians) if round_medians else None,
        "round_median_max_ns": max(round_medians) if round_medians else None,
    }
