"""Exceptions and their message formats (spec §19)."""

from __future__ import annotations

import pytest

from cpex.framework import PluginError, PluginErrorModel, PluginViolation, PluginViolationError
from cpex.framework.errors import convert_exception_to_error
from cpex.framework.models import ControlExecutionRecord, ControlExecutionStatus, PluginMode


def test_violation_error_carries_message_violation_and_no_records() -> None:
    violation = PluginViolation(reason="r", description="d", code="C", details={"k": 1})
    exc = PluginViolationError("blocked!", violation=violation)
    assert str(exc) == "blocked!"
    assert exc.message == "blocked!"
    assert exc.violation is violation
    assert exc.executions is None
    assert exc.args == ("blocked!",)


def test_violation_error_without_violation() -> None:
    exc = PluginViolationError("no details")
    assert exc.violation is None and exc.executions is None


def test_violation_error_executions_are_assignable_records() -> None:
    exc = PluginViolationError("x")
    record = ControlExecutionRecord(
        plugin_id="a" * 32,
        plugin_name="p",
        plugin_kind="k",
        hook_name="tool_pre_invoke",
        mode=PluginMode.SEQUENTIAL,
        status=ControlExecutionStatus.COMPLETED,
    )
    exc.executions = [record]
    assert exc.executions[0].plugin_name == "p"


def test_plugin_error_str_is_the_model_message() -> None:
    model = PluginErrorModel(message="it broke", plugin_name="p", code="E1", details={"a": 1}, mcp_error_code=-1)
    exc = PluginError(model)
    assert str(exc) == "it broke"
    assert exc.error is model
    assert (exc.error.code, exc.error.details, exc.error.plugin_name, exc.error.mcp_error_code) == (
        "E1",
        {"a": 1},
        "p",
        -1,
    )


def test_plugin_error_is_raisable_and_catchable_as_exception() -> None:
    with pytest.raises(Exception, match="^boom$"):
        raise PluginError(PluginErrorModel(message="boom", plugin_name="p"))


@pytest.mark.parametrize(
    "exception",
    [ValueError("bad value"), RuntimeError(), KeyError("k"), TimeoutError("slow")],
)
def test_convert_exception_to_error_uses_repr_and_defaults(exception: BaseException) -> None:
    model = convert_exception_to_error(exception, "my_plugin")
    assert model.message == repr(exception)
    assert model.plugin_name == "my_plugin"
    assert model.code == ""
    assert model.details == {}
    assert model.mcp_error_code == -32603


def test_error_model_details_default_is_not_shared() -> None:
    first = PluginErrorModel(message="a", plugin_name="p")
    second = PluginErrorModel(message="b", plugin_name="p")
    assert first.details is not None and second.details is not None
    first.details["x"] = 1
    assert second.details == {}
