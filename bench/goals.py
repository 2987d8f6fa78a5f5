"""The performance targets (issues 6 and 12), in one place, and how a result is judged
against them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    of: str  # "ours_median_ns" | "ratio" | "ns_per_op" | "growth_pct" | "stall_p99_ms"
    op: str  # "<=" | ">=" | "<"
    value: float
    text: str

    def met(self, measured: float | None) -> bool | None:
        if measured is None:
            return None
        if self.op == "<=":
            return measured <= self.value
        if self.op == ">=":
            return measured >= self.value
        return measured < self.value


GOALS: dict[str, Goal] = {
    "S0.has_hooks_for": Goal("ours_median_ns", "<=", 1000.0, "≤ 1 µs"),
    "S0.invoke_hook": Goal("ours_median_ns", "<=", 1000.0, "≤ 1 µs"),
    "S1": Goal("ratio", "<=", 0.4, "≤ 0.4×"),
    "S2": Goal("ratio", "<=", 0.3, "≤ 0.3×"),
    "S3": Goal("ratio", "<=", 0.4, "≤ 0.4×"),
    "S4": Goal("ratio", "<=", 0.05, "≤ 0.05×"),
    "S5": Goal("ratio", ">=", 2.5, "≥ 2.5× throughput"),
    "S6": Goal("ns_per_op", "<=", 2000.0, "≤ 2 µs/op"),
    "S7.pre": Goal("ratio", "<=", 0.5, "≤ 0.5×"),
    "S7.post": Goal("ratio", "<=", 0.5, "≤ 0.5×"),
    "S7.url": Goal("ratio", "<=", 0.5, "≤ 0.5×"),
    # the p99 of the loop's longest CPU-time gap per guard call, at every payload size
    "S8": Goal("stall_p99_ms", "<=", 1.0, "p99 ≤ 1 ms"),
    "M1": Goal("growth_pct", "<", 2.0, "< 2 % growth"),
}


def goal_text(key: str | None) -> str:
    goal = GOALS.get(key or "")
    return goal.text if goal else ""
