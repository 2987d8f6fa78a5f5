"""bench/readme.py: the READMEs' measured blocks come from the results files, and only
from a complete full run; a smoke run renders a preview and leaves the READMEs alone."""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

import readme  # noqa: E402


def block(name: str, body: str) -> str:
    return f"{readme.START.format(name=name)}\n{body}\n{readme.END.format(name=name)}"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A results folder holding copies of the committed results."""
    out = tmp_path / "results"
    out.mkdir()
    for name in ("latest.json", "loopstall.json"):
        shutil.copy(BENCH / "results" / name, out / name)
    return out


def test_committed_readmes_match_committed_results() -> None:
    # A hand edit of a measured block, or results committed without bench/readme.py.
    assert readme.main(["--check"]) == 0


@pytest.mark.parametrize("text, error", [
    ("no markers at all\n", "found 0"),
    (block("summary", "a") + "\n" + block("summary", "b") + "\n", "found 2"),
    (readme.START.format(name="summary") + "\nno end marker\n", "found 0"),
])
def test_splice_needs_exactly_one_block(text: str, error: str) -> None:
    with pytest.raises(readme.ReadmeError, match=error) as exc:
        readme.splice(text, "summary", "new", "X.md")
    assert "X.md" in str(exc.value) and "'summary'" in str(exc.value)


def test_splice_replaces_only_its_block() -> None:
    text = "intro\n" + block("summary", "old\ntable") + "\nmiddle\n" + block("loopstall", "keep") + "\nend\n"
    out = readme.splice(text, "summary", "new", "X.md")
    assert out == "intro\n" + block("summary", "new") + "\nmiddle\n" + block("loopstall", "keep") + "\nend\n"
    assert readme.splice(out, "summary", "new", "X.md") == out  # idempotent


def test_render_takes_every_number_from_the_results(results: Path) -> None:
    data = json.loads((results / "latest.json").read_text())
    rendered = readme.render(results, quick=False)
    summary = rendered["bench/README.md"]["summary"]
    assert data["started_at"] in summary
    assert data["markdown_table"] in summary
    assert "](results/ratios.png)" in summary  # relative to bench/README.md
    assert "](bench/results/ratios.png)" in rendered["README.md"]["summary"]  # relative to README.md
    check = data["scenarios"]["S4"]["setup"]["ours"]["check"]
    assert f"| ours | 4 | True | {check['pii_redactions']} | {check['secret_redactions']} |" in rendered["bench/README.md"]["s4-check"]
    stall = json.loads((results / "loopstall.json").read_text())
    assert stall["table"] in rendered["bench/README.md"]["loopstall"]


def test_partial_run_leaves_the_summary(results: Path) -> None:
    data = json.loads((results / "latest.json").read_text())
    partial: dict[str, Any] = copy.deepcopy(data)
    partial["selected"] = ["S2"]
    (results / "latest.json").write_text(json.dumps(partial))
    rendered = readme.render(results, quick=False)
    assert "summary" not in rendered["bench/README.md"] and "summary" not in rendered["README.md"]
    assert "loopstall" in rendered["bench/README.md"]


def test_quick_writes_a_preview_not_the_readmes(results: Path) -> None:
    for name in ("latest", "loopstall"):
        data = json.loads((results / f"{name}.json").read_text())
        if name == "latest":
            data["mode"], data["started_at"] = "quick", "2000-01-01T00:00:00+00:00"
        else:
            data["meta"]["measured_at"] = "2000-01-01T00:00:01+00:00"
        (results / f"{name}-quick.json").write_text(json.dumps(data))
    before = {p: (REPO / p).read_text() for p in ("README.md", "bench/README.md")}
    assert readme.main(["--quick", "--results", str(results)]) == 0
    preview = (results / "README-quick.md").read_text()
    assert "Measured 2000-01-01T00:00:00+00:00" in preview and "(quick run" in preview
    assert "Measured 2000-01-01T00:00:01+00:00 with `bench/loopstall.py`" in preview
    assert {p: (REPO / p).read_text() for p in before} == before


def test_bad_results_file_is_named(results: Path) -> None:
    (results / "loopstall.json").write_text("{not json")
    with pytest.raises(readme.ReadmeError, match="loopstall.json: not valid JSON"):
        readme.render(results, quick=False)
