"""Turns a results dict into the terminal table, the Markdown table and the ratio chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goals import GOALS, goal_text

S6_ROWS = (
    ("S6 10 Go no-op plugins", "BenchmarkInvokeGoNoop10"),
    ("S6 10 Go no-ops, no context table", "BenchmarkInvokeGoNoop10NoTable"),
    ("S6 10 Go no-ops, no records", "BenchmarkInvokeGoNoop10NoRecords"),
    ("S6 10 Go no-ops, result reused (Into)", "BenchmarkInvokeGoNoop10Into"),
    ("S6 10 Go no-ops, lean (Into, no table)", "BenchmarkInvokeGoNoop10Lean"),
    ("S6 1 Go no-op plugin", "BenchmarkInvokeGoNoop1"),
    ("S6 no plugins", "BenchmarkInvokeNoPlugins"),
    ("S6 no plugins, result reused (Into)", "BenchmarkInvokeNoPluginsInto"),
    ("S6 all modes", "BenchmarkInvokeAllModes"),
    ("S6 foreign round trip", "BenchmarkForeignRoundTrip"),
    ("S6 pii_filter 16 KB", "BenchmarkPIIFilter16KB"),
    ("S6 secrets_detection 16 KB", "BenchmarkSecretsDetection16KB"),
    ("S6 regex_replace 16 KB", "BenchmarkRegexReplace16KB"),
    ("S6 deny_list 16 KB", "BenchmarkDenyList16KB"),
)


def fmt_ns(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1_000:
        return f"{value:.0f} ns"
    if value < 1_000_000:
        return f"{value / 1_000:.1f} µs"
    return f"{value / 1_000_000:.2f} ms"


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}/s"


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[met]


def _p99_cell(sc: dict[str, Any]) -> str:
    """ours p99 / upstream p99, marked when ours has the longer tail (the goal is ≤ 1)."""
    r = sc.get("ratio_p99")
    if r is None:
        return "-"
    return f"{r:.3f}" + ("" if r <= 1.0 else " (longer)")


def rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per measured thing: name, upstream p50/p99, ours p50/p99, ratios, goal, met."""
    out: list[list[str]] = []
    for key, sc in results.get("scenarios", {}).items():
        up, ours = sc.get("upstream") or {}, sc.get("ours") or {}
        if sc.get("kind") == "throughput":
            cells = [
                key,
                fmt_rate(up.get("throughput_per_s")) if up else "-",
                fmt_ns(up.get("p99_ns")) if up else "-",
                fmt_rate(ours.get("throughput_per_s")) if ours else "-",
                fmt_ns(ours.get("p99_ns")) if ours else "-",
            ]
            ratio = f"{sc['ratio']:.2f}× thr" if sc.get("ratio") is not None else "-"
        else:
            cells = [key, fmt_ns(up.get("median_ns")), fmt_ns(up.get("p99_ns")), fmt_ns(ours.get("median_ns")), fmt_ns(ours.get("p99_ns"))]
            ratio = f"{sc['ratio']:.3f}" if sc.get("ratio") is not None else "-"
        if sc.get("error"):
            ratio = "error: " + ", ".join(sorted(sc["error"]))
        cpu = f"{sc['ratio_cpu']:.3f}" if sc.get("ratio_cpu") is not None else "-"
        out.append([*cells, ratio, _p99_cell(sc), cpu, goal_text(key), _mark(sc.get("met"))])
    out += _s8_rows(results)
    s6 = (results.get("go") or {}).get("benchmarks") or {}
    for label, name in S6_ROWS:
        if "S6" not in results.get("selected", ["S6"]):
            break
        b = s6.get(name)
        if b is None:
            continue
        if b["status"] != "ok":
            value = b["status"]
        else:
            extra = [f"{b['allocs_per_op']:.0f} allocs/op" if b.get("allocs_per_op") is not None else ""]
            if b.get("mb_per_s"):
                extra.append(f"{b['mb_per_s']:.0f} MB/s")
            value = fmt_ns(b["ns_per_op"]) + "/op " + " ".join(x for x in extra if x)
        goal_key = "S6" if name == "BenchmarkInvokeGoNoop10" else None
        met = results["go"].get("met") if goal_key else None
        out.append([label, "-", "-", value, "", "-", "-", "-", goal_text(goal_key) if goal_key else "", _mark(met)])
    m1 = results.get("memory")
    if m1:
        if m1.get("error"):
            out.append(["M1 memory", "-", "-", "error", "", "-", "-", "-", goal_text("M1"), "-"])
        else:
            rss = m1["growth_pct"]["rss_kb"]
            objs = m1["growth_pct"]["py_objects"]
            value = f"RSS {rss:+.1f}%, objects {objs:+.1f}% after {m1['calls']:,} calls"
            if m1.get("native_growth_pct"):
                value += ", native " + ", ".join(f"{k} {v:+.1f}%" for k, v in m1["native_growth_pct"].items())
            out.append(["M1 memory", "-", "-", value, "", "-", "-", "-", goal_text("M1"), _mark(m1.get("met"))])
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _s8_rows(results: dict[str, Any]) -> list[list[str]]:
    """S8: per payload size, the loop's longest CPU-time gap per guard call (p50 and p99
    in the p50/p99 columns; worst and the wall-clock p99 in the ratio cells' note)."""
    stall = results.get("loop_stall")
    if not stall:
        return []
    up = (stall.get("upstream") or {}).get("sizes") or {}
    ours = (stall.get("ours") or {}).get("sizes") or {}
    out: list[list[str]] = []
    for label in ours or up:
        u, o = up.get(label) or {}, ours.get(label) or {}
        ratio = "-"
        if u and o and u.get("cpu_stall_p50_ms"):
            ratio = f"{o['cpu_stall_p50_ms'] / u['cpu_stall_p50_ms']:.3f}"
        p99 = "-"
        if u and o and u.get("cpu_stall_p99_ms"):
            p99 = f"{o['cpu_stall_p99_ms'] / u['cpu_stall_p99_ms']:.3f}"
        met = None if not o else GOALS["S8"].met(o["cpu_stall_p99_ms"])
        worst = f"worst {_ms(o.get('cpu_stall_max_ms'))}, wall p99 {_ms(o.get('wall_stall_p99_ms'))}" if o else "-"
        out.append([f"S8 loop stall {label}", _ms(u.get("cpu_stall_p50_ms")), _ms(u.get("cpu_stall_p99_ms")),
                    _ms(o.get("cpu_stall_p50_ms")), _ms(o.get("cpu_stall_p99_ms")), ratio, p99, worst,
                    goal_text("S8"), _mark(met)])
    for impl in ("upstream", "ours"):
        if (stall.get(impl) or {}).get("error"):
            out.append([f"S8 loop stall ({impl})", "-", "-", "error", "", "-", "-", "-", goal_text("S8"), "-"])
    return out


HEADERS = ["scenario", "upstream p50", "upstream p99", "ours p50", "ours p99", "ours/upstream", "p99 ours/upstream",
           "CPU ratio", "goal", "met"]


def print_table(results: dict[str, Any], console: Any | None) -> None:
    table_rows = rows(results)
    if console is not None:
        from rich.table import Table

        table = Table(title=f"cpex-go vs upstream cpex 0.1.4 ({results['mode']} run)")
        for h in HEADERS:
            table.add_column(h, justify="left" if h in ("scenario", "goal") else "right")
        for r in table_rows:
            style = "red" if r[-1] == "NO" else None
            table.add_row(*r, style=style)
        console.print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in table_rows)) if table_rows else len(h) for i, h in enumerate(HEADERS)]
    line = "  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in table_rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)))


def markdown(results: dict[str, Any]) -> str:
    """The table as Markdown, for the README."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows(results)]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> str | None:
    """Horizontal bars of ours/upstream time per call (log scale) with the goal of each row.

    S5 is a throughput scenario; it is drawn as upstream/ours throughput, i.e. the time
    per call at saturation, so that every bar reads "lower is better". Returns None when
    written, else why not.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -r bench/requirements.txt)"
    labels: list[str] = []
    values: list[float] = []
    goals: list[float | None] = []
    met: list[bool | None] = []
    cpu: list[float | None] = []
    p99: list[float | None] = []
    for key, sc in results.get("scenarios", {}).items():
        ratio = sc.get("ratio")
        if ratio is None or ratio <= 0:
            continue
        met.append(sc.get("met"))
        cpu.append(sc.get("ratio_cpu"))
        p99.append(sc.get("ratio_p99"))
        goal = GOALS.get(key)
        if sc.get("kind") == "throughput":
            labels.append(f"{key} (1 / throughput)")
            values.append(1.0 / ratio)
            goals.append(1.0 / goal.value if goal else None)
        else:
            labels.append(key if goal is None or goal.of == "ratio" else f"{key}\n(goal {goal.text} absolute)")
            values.append(ratio)
            goals.append(goal.value if goal and goal.of == "ratio" else None)
    if not values:
        return "no ratio to draw"
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(values) + 1.6))
    y = list(range(len(values)))[::-1]
    # green: goal met; red: missed; grey: no goal judged (e.g. S0's goals are absolute)
    colors = [{True: "#2b8a3e", False: "#c92a2a", None: "#868e96"}[m] for m in met]
    ax.barh(y, values, color=colors, height=0.6)
    for yi, v, g in zip(y, values, goals, strict=False):
        i = len(y) - 1 - yi
        ax.text(max(v, g or 0, cpu[i] or 0, p99[i] or 0) * 1.12, yi, f"{v:.2g}×", va="center", fontsize=9)
        if g is not None:
            ax.plot([g, g], [yi - 0.38, yi + 0.38], color="black", linewidth=2)
    cpu_points = [(c, yi) for c, yi in zip(cpu, y, strict=False) if c]
    if cpu_points:
        ax.scatter([c for c, _ in cpu_points], [yi for _, yi in cpu_points], marker="o", facecolors="white",
                   edgecolors="black", zorder=3, s=28, label="CPU time ratio")
    p99_points = [(r, yi) for r, yi in zip(p99, y, strict=False) if r]
    if p99_points:
        ax.scatter([r for r, _ in p99_points], [yi for _, yi in p99_points], marker="D", color="#1c7ed6",
                   zorder=4, s=26, label="p99 ratio")
    if cpu_points or p99_points:
        ax.legend(loc="lower right", fontsize=8)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    points = values + [g for g in goals if g is not None] + [c for c in cpu if c] + [r for r in p99 if r]
    ax.set_xlim(min(points) / 2.5, max(max(points) * 3, 2.0))
    ax.set_xlabel("ours / upstream cpex 0.1.4, time per call (log scale; lower is better; black tick = goal)")
    m = results.get("machine", {})
    ax.set_title(
        f"cpex-go vs upstream, median of interleaved rounds ({results['mode']} run)\n"
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, Python {m.get('python', '?')}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def summary_markdown(results: dict[str, Any], chart_name: str | None, image_dir: str = "bench/results") -> str:
    """The measured section of the READMEs: machine, table, chart, and how to read them.

    image_dir is the chart's folder relative to the README it goes into."""
    m = results.get("machine", {})
    up = results.get("implementations", {}).get("upstream", {})
    load = m.get("loadavg_start") or [None]
    lines = [
        f"Measured {results.get('started_at', '?')} with `make bench` ({results['mode']} run, "
        f"{results.get('duration_s', '?')} s): {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('mem_gib', '?')} GiB, {m.get('os', '?')}, Python {m.get('python', '?')}, {m.get('go', '?')}; "
        f"upstream cpex {up.get('cpex_version', '?')} from PyPI. Load average at start: "
        + (f"{load[0]:.1f}" if load[0] is not None else "?")
        + " (a shared machine: absolute times are inflated, the interleaved ratios much less so).",
        "",
        "Per call: median and p99 of every timed call, both sides interleaved in short rounds; "
        "ours/upstream is the ratio of the medians (S5: of the throughputs), p99 ours/upstream "
        "the ratio of the tails (goal ≤ 1 everywhere), CPU ratio the ratio of process CPU time "
        "per call. S6 is Go-only (`go test -bench`), M1 ours only. S8: the longest CPU-time gap "
        "of the event loop while one guard call runs (a concurrent request's wait), p50 and p99 "
        "over the calls; ours runs the Go built-ins, upstream the same work as Python plugins.",
        "",
        markdown(results),
    ]
    if chart_name:
        lines += ["", f"![ours/upstream per scenario]({image_dir}/{chart_name})"]
    return "\n".join(lines) + "\n"
