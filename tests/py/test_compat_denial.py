"""Denial outcomes: the telemetry-safe summary on executor-raised PluginViolationError.

Not in the spec; the published 0.1.4 sdist has it (cpex.framework.errors). Written from
its documented behaviour: metrics are short ASCII labels with bool / int64 / finite float
values, at most 16 of them; codes survive only as labels or in-range ints; the snapshot
is frozen and independent of the objects it was taken from; only errors the executor
created (``_from_framework_denial``) ever get an outcome, and only once.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

import cpex.framework as framework
from cpex.framework import ControlExecutionRecord, ControlExecutionStatus, PluginMode, PluginResult, PluginViolation
from cpex.framework.errors import (
    DenialExecutionRecord,
    DenialOutcome,
    PluginViolationError,
    sanitize_denial_metadata,
)


def make_record(**overrides: Any) -> ControlExecutionRecord:
    values: dict[str, Any] = dict(
        plugin_id="0f" * 16,
        plugin_name="Quota",
        plugin_kind="plugins.quota.Quota",
        hook_name="tool_pre_invoke",
        mode=PluginMode.CONCURRENT,
        status=ControlExecutionStatus.COMPLETED,
        requested_allow=False,
        effective_allow=False,
        matched=True,
        applied=True,
        payload_modified=False,
        extensions_modified=False,
        duration_ns=0,
        reason="user alice@example.com exceeded the quota",
        error_code="QUOTA",
        config_keys=["limit", "window"],
    )
    values.update(overrides)
    return ControlExecutionRecord(**values)


# ------------------------------------------------------------ sanitize_denial_metadata


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, {}),
        ("not a mapping", {}),
        ([("k", 1)], {}),
        ({}, {}),
        ({"hits": 3, "blocked": True, "ratio": 0.5}, {"hits": 3, "blocked": True, "ratio": 0.5}),
        ({"int64.low": -(2**63), "int64.high": 2**63 - 1}, {"int64.low": -(2**63), "int64.high": 2**63 - 1}),
        ({"too.low": -(2**63) - 1, "too.high": 2**63, "ok": 0}, {"ok": 0}),
        ({"nan": math.nan, "inf": math.inf, "neg": -math.inf, "ok": -1.5}, {"ok": -1.5}),
        ({"user": "alice", "nested": {"a": 1}, "list": [1], "none": None, "ok": False}, {"ok": False}),
        ({"with space": 1, "at@sign": 1, "ünicode": 1, "": 1, "x" * 65: 1, 7: 1, "A.b-c_9": 1}, {"A.b-c_9": 1}),
        ({"x" * 64: 2}, {"x" * 64: 2}),
        ({"trailing\n": 1}, {}),
    ],
)
def test_sanitize_keeps_only_labelled_numeric_metrics(metadata: Any, expected: dict[str, Any]) -> None:
    assert sanitize_denial_metadata(metadata) == expected


def test_sanitize_refuses_whole_map_above_sixteen_entries() -> None:
    sixteen = {f"m{i}": i for i in range(16)}
    assert sanitize_denial_metadata(sixteen) == sixteen
    assert sanitize_denial_metadata({**sixteen, "m16": 16}) == {}
    # even when the extra entry would itself be dropped: the size is judged first
    assert sanitize_denial_metadata({**sixteen, "bad key": "text"}) == {}


def test_sanitize_returns_new_dict_and_exact_types() -> None:
    class IntSub(int):
        pass

    class StrKey(str):
        pass

    source = {"flag": True, "count": 1, "score": 1.0, "sub": IntSub(3), StrKey("k"): 1}
    result = sanitize_denial_metadata(source)
    assert result == {"flag": True, "count": 1, "score": 1.0}
    assert result is not source
    assert [type(v) for v in result.values()] == [bool, int, float]
    result["count"] = 99
    assert source["count"] == 1


# ------------------------------------------------------------- DenialExecutionRecord


def test_execution_snapshot_has_every_record_field_but_the_free_text_ones() -> None:
    snapshot_fields = [f.name for f in dataclasses.fields(DenialExecutionRecord)]
    record_fields = [name for name in ControlExecutionRecord.model_fields if name not in ("reason", "config_keys")]
    assert snapshot_fields == record_fields

    record = make_record()
    snapshot = DenialExecutionRecord.from_execution(record)
    for name in record_fields:
        assert getattr(snapshot, name) == getattr(record, name), name
    assert type(snapshot.status) is str and snapshot.status == "completed"
    assert not hasattr(snapshot, "reason") and not hasattr(snapshot, "config_keys")


@pytest.mark.parametrize("code", [None, "", "has space", "e" * 65, "naïve", "a/b"])
def test_execution_snapshot_drops_non_label_error_codes(code: Any) -> None:
    assert DenialExecutionRecord.from_execution(make_record(error_code=code)).error_code is None


# ----------------------------------------------------------------------- DenialOutcome


@pytest.mark.parametrize(
    ("http", "mcp", "want_http", "want_mcp"),
    [
        (429, -32000, 429, -32000),
        (100, 2**31 - 1, 100, 2**31 - 1),
        (599, -(2**31), 599, -(2**31)),
        (99, 2**31, None, None),
        (600, -(2**31) - 1, None, None),
        (False, True, None, None),
        ("403", "-32603", None, None),
        (403.0, -32603.0, None, None),
        (None, None, None, None),
    ],
)
def test_outcome_keeps_protocol_codes_only_in_range(http: Any, mcp: Any, want_http: Any, want_mcp: Any) -> None:
    violation = PluginViolation.model_construct(
        reason="r", description="d", code="RATE_LIMIT", details={}, http_status_code=http, mcp_error_code=mcp
    )
    outcome = DenialOutcome.from_execution(make_record(), violation, {})
    assert (outcome.http_status_code, outcome.mcp_error_code) == (want_http, want_mcp)
    assert outcome.violation_code == "RATE_LIMIT"


def test_outcome_without_violation_has_no_codes_and_no_free_text() -> None:
    outcome = DenialOutcome.from_execution(make_record(), None, None)
    assert (outcome.violation_code, outcome.http_status_code, outcome.mcp_error_code) == (None, None, None)
    assert dict(outcome.metadata) == {}
    text = repr(outcome)
    assert "alice" not in text and "limit" not in text  # neither reason nor config keys


def test_outcome_is_frozen_and_read_only() -> None:
    outcome = DenialOutcome.from_execution(make_record(), None, {"hits": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.violation_code = "X"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.execution.plugin_name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        outcome.metadata["hits"] = 2  # type: ignore[index]


# ---------------------------------------------------------------- PluginViolationError


def test_plain_error_keeps_its_upstream_shape() -> None:
    error = PluginViolationError("stop")
    assert (error.message, str(error), error.violation, error.executions, error.denial_outcome) == (
        "stop", "stop", None, None, None,
    )


def test_plugin_raised_error_never_gets_an_outcome() -> None:
    error = PluginViolationError("stop", PluginViolation(reason="r", description="d", code="C"))
    error.attach_denial_outcome(make_record())
    assert error.denial_outcome is None


def test_framework_error_snapshots_sources_at_their_own_time() -> None:
    metrics = {"hits": 5, "user": "alice"}
    violation = PluginViolation(reason="r", description="d", code="QUOTA", http_status_code=429)
    error = PluginViolationError._from_framework_denial("blocked", violation, metrics)
    assert (str(error), error.violation, error.denial_outcome) == ("blocked", violation, None)

    metrics["hits"] = 500  # after creation: metrics were already sanitized and copied
    record = make_record()
    error.attach_denial_outcome(record)
    record.plugin_name = "Forged"  # after attach: the record was already copied
    violation.code = "FORGED"

    outcome = error.denial_outcome
    assert outcome is not None
    assert dict(outcome.metadata) == {"hits": 5}
    assert outcome.execution.plugin_name == "Quota"
    assert outcome.violation_code == "QUOTA"
    assert outcome.http_status_code == 429


def test_outcome_is_attached_once() -> None:
    error = PluginViolationError._from_framework_denial("blocked", None, None)
    error.attach_denial_outcome(make_record(plugin_name="First"))
    error.attach_denial_outcome(make_record(plugin_name="Second"))
    assert error.denial_outcome is not None
    assert error.denial_outcome.execution.plugin_name == "First"
    assert dict(error.denial_outcome.metadata) == {}


# --------------------------------------------------------------------- PluginResult


def test_plugin_result_carries_denial_metadata_as_given() -> None:
    metrics = {"hits": 5, "note": "kept here: only the outcome is sanitized"}
    result = PluginResult(continue_processing=False, denial_metadata=metrics)
    assert result.denial_metadata == metrics
    assert PluginResult().denial_metadata is None
    assert result.model_dump()["denial_metadata"] == metrics


def test_denial_names_are_exported_from_the_package() -> None:
    assert framework.DenialOutcome is DenialOutcome
    assert framework.DenialExecutionRecord is DenialExecutionRecord
    assert {"DenialOutcome", "DenialExecutionRecord"} <= set(framework.__all__)
