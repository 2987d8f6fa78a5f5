"""bench/gateway_profile.py: its worker reads the gateway gate the way the gateway does, and
the driver's table pairs both sides. Ours only (no upstream virtualenv, no cpex-* plugins
here); nothing about how fast anything is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import gateway_profile  # noqa: E402

CONFIG = """
plugin_dirs: []
plugins:
  - name: PassThrough
    kind: bench_plugins.gateway_shapes.PassThroughPlugin
    hooks: [tool_pre_invoke, resource_pre_fetch]
    mode: sequential
    priority: 10
  - name: SchemaGuard
    kind: bench_plugins.gateway_shapes.SchemaCheckPlugin
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 20
    config:
      arg_schemas:
        search_tool: {required: [query], properties: {query: {type: string}}}
  - name: Switched
    kind: bench_plugins.gateway_shapes.PassThroughPlugin
    hooks: [tool_pre_invoke]
    mode: disabled
"""


@pytest.fixture(scope="module")
def worker_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cfg = tmp_path_factory.mktemp("gp") / "config.yaml"
    cfg.write_text(CONFIG)
    proc = subprocess.run(
        [sys.executable, str(BENCH / "gateway_profile.py"), "--worker", "--config", str(cfg), "--iterations", "30"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_worker_profiles_every_enabled_plugin_and_hook(worker_result: dict[str, Any]) -> None:
    assert Path(worker_result["cpex_file"]).is_relative_to(REPO / "python")
    plugins = worker_result["plugins"]
    assert {name: sorted(hooks) for name, hooks in plugins.items()} == {
        "PassThrough": ["resource_pre_fetch", "tool_pre_invoke"],
        "SchemaGuard": ["tool_pre_invoke"],
    }
    assert sorted(worker_result["chains"]) == ["resource_pre_fetch", "tool_pre_invoke"]
    for hooks in plugins.values():
        for m in hooks.values():
            assert len(m["wall_ns"]) == 30 and min(m["wall_ns"]) > 0
            assert m["gate_ms"] > 0 and m["attributed_us"] > 0
            assert m["cpu_us"] > 0


def test_our_single_plugin_path_never_suspends(worker_result: dict[str, Any]) -> None:
    # The property docs/performance.md rests on: ours runs the plugin inline, so the
    # profiled frame is entered exactly once per call (upstream: twice, via a task).
    for hooks in worker_result["plugins"].values():
        for m in hooks.values():
            assert m["entries_per_call"] == 1.0
            assert m["gate_ms"] == pytest.approx(m["attributed_us"] / 1e3)


def test_gate_reading_is_the_gateways_formula() -> None:
    class FakeStats:
        stats: ClassVar[dict[tuple[str, int, str], Any]] = {
            ("x.py", 1, "other"): (5, 5, 0.1, 9.0, {}),
            ("m.py", 2, "invoke_hook_for_plugin"): (2000, 2000, 0.01, 0.05, {}),
        }

    got = gateway_profile._gate_reading(FakeStats(), 1000)  # type: ignore[arg-type]
    assert got == pytest.approx({"gate_ms": 0.025, "entries_per_call": 2.0, "attributed_us": 50.0})


def test_table_pairs_both_sides(worker_result: dict[str, Any]) -> None:
    merged = gateway_profile._merge([worker_result, worker_result])
    row = merged["plugins"]["SchemaGuard"]["tool_pre_invoke"]
    assert row["wall_p99_us"] >= row["wall_p50_us"] > 0
    assert row["cpu_us"] == worker_result["plugins"]["SchemaGuard"]["tool_pre_invoke"]["cpu_us"]
    assert merged["chains"]["tool_pre_invoke"]["n"] == 60
    md = gateway_profile._markdown({
        "when": "now", "iterations": 30, "rounds": 2, "config": "c.yaml", "ours_config": "c.yaml",
        "upstream_python": "up", "upstream": merged, "ours": merged,
    })
    assert "| SchemaGuard | tool_pre_invoke |" in md
    assert "| tool_pre_invoke |" in md and "| 1.00 | 1.00 |" in md
