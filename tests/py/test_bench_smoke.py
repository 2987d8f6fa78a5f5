"""Smoke test of the benchmark harness (bench/): it runs, and its outputs have the promised
shape. Against ours only (no network, no upstream virtualenv, no Go toolchain needed), and
never about how fast anything is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import gobench  # noqa: E402
import report  # noqa: E402
from stats import percentile, summarize  # noqa: E402


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [
            sys.executable, str(BENCH / "run.py"), "--quick", "--plain", "--impls", "ours",
            "--ours-python", sys.executable, "--only", "S0,S1,S3,S5,M1", "--out", str(out),
        ],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (out / "latest.json").exists(), "a quick run must not overwrite latest.json"
    data = json.loads((out / "latest-quick.json").read_text())
    data["_stdout"] = proc.stdout
    return data


def test_quick_run_reports_every_selected_scenario(quick_results: dict[str, Any]) -> None:
    assert quick_results["mode"] == "quick"
    assert quick_results["errors"] == []
    assert set(quick_results["scenarios"]) == {"S0.has_hooks_for", "S0.invoke_hook", "S1", "S3", "S5"}
    ours_impl = quick_results["implementations"]["ours"]
    assert Path(ours_impl["cpex_file"]).is_relative_to(REPO / "python"), "the ours worker must import the checkout"
    for key, entry in quick_results["scenarios"].items():
        ours = entry["ours"]
        assert ours["n"] >= 1, key
        assert ours["p99_ns"] >= ours["median_ns"] > 0, key
        assert ours["rounds"] == 2 if entry["kind"] == "latency" else ours["rounds"] == 1, key
        assert "upstream" not in entry and entry["ratio"] is None, key
        assert "goal" in entry and entry["goal"]["text"], key
    s5 = quick_results["scenarios"]["S5"]
    assert s5["kind"] == "throughput" and s5["ours"]["throughput_per_s"] > 0
    # S5 is concurrent: every one of its clients made calls in every round, not task 0 alone.
    assert s5["ours"]["tasks_with_calls"] == s5["ours"]["concurrent_tasks"] == 200
    assert s5["ours"]["min_task_calls"] >= 2
    # ... and no client had the loop to itself: the busiest made about an even share.
    assert 1.0 <= s5["ours"]["busiest_task_share"] <= 10.0


def test_quick_run_reports_memory_series(quick_results: dict[str, Any]) -> None:
    m1 = quick_results["memory"]
    assert m1["requested"] == 4_000
    # the baseline plus up to 4 checkpoints (a slow machine may hit the quick cap first)
    calls = [p["calls"] for p in m1["series"]]
    assert calls == [0, 1_000, 2_000, 3_000, 4_000][: len(calls)] and len(calls) >= 2
    assert m1["calls"] == calls[-1] and m1["capped"] == (calls[-1] < 4_000)
    assert set(m1["growth_pct"]) == {"rss_kb", "py_objects", "fds", "threads"}
    assert isinstance(m1["met"], bool)


def test_quick_run_prints_the_table(quick_results: dict[str, Any]) -> None:
    table = quick_results["_stdout"]
    for label in ("S0.has_hooks_for", "S1", "S5", "M1 memory", "ours p50"):
        assert label in table
    assert quick_results["markdown_table"].startswith("| scenario |")


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    s = summarize([3.0, 1.0, 2.0], [2.0])
    assert (s["median_ns"], s["min_ns"], s["n"]) == (2.0, 1.0, 3)


GO_OUTPUT = """goos: linux
goarch: amd64
pkg: github.com/cpex-go/cpex/tests/go
cpu: Some CPU
BenchmarkInvokeGoNoop10-2   	  500000	      1834 ns/op	     320 B/op	       4 allocs/op
BenchmarkInvokeAllModes/sub-2 	  1000	      9999 ns/op
PASS
ok  	github.com/cpex-go/cpex/tests/go	2.1s
# github.com/cpex-go/cpex/core/builtins
core/builtins/x.go:1:1: undefined: y
FAIL	github.com/cpex-go/cpex/core/builtins [build failed]
"""


def test_go_benchmark_output_is_parsed() -> None:
    found, failed = gobench.parse(GO_OUTPUT)
    assert found["BenchmarkInvokeGoNoop10"]["ns_per_op"] == 1834.0
    assert found["BenchmarkInvokeGoNoop10"]["allocs_per_op"] == 4.0
    assert found["BenchmarkInvokeGoNoop10"]["package"] == "github.com/cpex-go/cpex/tests/go"
    assert found["BenchmarkInvokeAllModes/sub"]["iterations"] == 1000
    assert failed == {"github.com/cpex-go/cpex/core/builtins": "build failed"}


def test_chart_is_written_from_ratios(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = {
        "mode": "quick",
        "machine": {"cpu": "cpu", "cores": 2, "python": "3.11"},
        "scenarios": {
            "S1": {"kind": "latency", "ratio": 0.3},
            "S5": {"kind": "throughput", "ratio": 3.0},
            "S2": {"kind": "latency", "ratio": None},
        },
    }
    path = tmp_path / "ratios.png"
    assert report.chart(results, path) is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_s8_rows_judge_the_tail_at_every_size() -> None:
    sizes = {
        label: {"cpu_stall_p50_ms": p50, "cpu_stall_p99_ms": p99, "cpu_stall_max_ms": p99 + 0.1,
                "wall_stall_p99_ms": p99 + 1.0}
        for label, p50, p99 in (("16 KB", 0.2, 0.5), ("1 MB", 0.6, 2.5))
    }
    upstream = {k: dict(v, cpu_stall_p50_ms=v["cpu_stall_p50_ms"] * 10, cpu_stall_p99_ms=v["cpu_stall_p99_ms"] * 10)
                for k, v in sizes.items()}
    results = {"scenarios": {}, "selected": ["S8"],
               "loop_stall": {"ours": {"sizes": sizes}, "upstream": {"sizes": upstream}}}
    rows = {r[0]: r for r in report.rows(results)}
    assert set(rows) == {"S8 loop stall 16 KB", "S8 loop stall 1 MB"}
    small, large = rows["S8 loop stall 16 KB"], rows["S8 loop stall 1 MB"]
    assert len(small) == len(report.HEADERS)
    assert (small[3], small[4], small[5], small[6], small[-1]) == ("0.20 ms", "0.50 ms", "0.100", "0.100", "yes")
    assert (large[4], large[-1]) == ("2.50 ms", "NO"), "a p99 stall over 1 ms misses the goal"


def test_p99_column_marks_a_longer_tail() -> None:
    results = {"scenarios": {
        "S1": {"kind": "latency", "ratio": 0.5, "ratio_p99": 0.8, "upstream": {"median_ns": 2, "p99_ns": 10},
               "ours": {"median_ns": 1, "p99_ns": 8}},
        "S3": {"kind": "latency", "ratio": 0.5, "ratio_p99": 2.04, "upstream": {"median_ns": 2, "p99_ns": 10},
               "ours": {"median_ns": 1, "p99_ns": 20.4}},
    }, "selected": ["S1", "S3"]}
    rows = {r[0]: r for r in report.rows(results)}
    col = report.HEADERS.index("p99 ours/upstream")
    assert rows["S1"][col] == "0.800"
    assert rows["S3"][col] == "2.040 (longer)"
