"""The condition table tests/cases/conditions/matching.yaml against
cpex.framework.utils.payload_matches, the function the gateway calls synchronously;
tests/go/conditions_table_test.go runs the same rows against core.MatchConditions."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from cpex.framework.models import GlobalContext, PluginCondition
from cpex.framework.utils import payload_matches
from test_cases import CASES_DIR, read_yaml

ROWS: list[dict[str, Any]] = read_yaml(CASES_DIR / "conditions" / "matching.yaml")["matching"]


def context(spec: dict[str, Any]) -> GlobalContext:
    fields = {"request_id": "req-1", **spec}
    user = fields.pop("user", None)
    gc = GlobalContext(**fields)
    try:
        gc.user = GlobalContext(request_id="v", user=user).user
    except ValidationError:
        gc.user = user  # a host may assign what the model would reject
    return gc


def test_the_table_is_broad() -> None:
    assert len(ROWS) >= 60
    fields = set().union(*(c for r in ROWS for c in r["conditions"]))
    assert fields == set(PluginCondition.model_fields), "every PluginCondition field has rows"


@pytest.mark.parametrize("row", ROWS, ids=[r["name"] for r in ROWS])
def test_payload_matches(row: dict[str, Any]) -> None:
    want = row["expect"]
    differences = row.get("host_differences") or {}
    if differences:
        assert differences.get("why"), "host_differences needs a why"
    want = (differences.get("python") or {}).get("expect", want)
    payload = SimpleNamespace(**row.get("payload", {"name": "search"}))
    conditions = [PluginCondition(**c) for c in row["conditions"]]
    gc = context(row.get("context") or {})
    hook = row.get("hook", "tool_pre_invoke")
    if want == "TypeError":
        with pytest.raises(TypeError):
            payload_matches(payload, hook, conditions, gc)
    else:
        assert payload_matches(payload, hook, conditions, gc) is want


def test_matching_does_not_start_the_go_runtime() -> None:
    # The gateway calls payload_matches synchronously: importing and calling it must not
    # load the native extension (the Go runtime lives there).
    code = (
        "import sys\n"
        "from cpex.framework.utils import payload_matches\n"
        "from cpex.framework.models import GlobalContext, PluginCondition\n"
        "from types import SimpleNamespace\n"
        "ok = payload_matches(SimpleNamespace(name='a'), 'tool_pre_invoke', [PluginCondition(tools={'a'})],"
        " GlobalContext(request_id='r'))\n"
        "assert ok\n"
        "print(sorted(m for m in sys.modules if m.startswith('cpex._native')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
