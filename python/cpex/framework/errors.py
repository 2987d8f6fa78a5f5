"""Exceptions raised to callers of the plugin framework (spec §19).

``PluginViolationError`` carries a plugin's policy decision (a blocked request);
``PluginError`` carries a plugin failure. The gateway maps both to protocol errors by
reading the models they hold, so their attributes are part of the contract.

A ``PluginViolationError`` that the executor raises for a blocking *result* (not one a
plugin raised itself) also gets a :class:`DenialOutcome`: a frozen, telemetry-safe
summary of who denied and why, in codes and numbers only. It never holds free text,
payloads or arbitrary metadata, so a caller may log or export it as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Optional, Union

from cpex.framework.models import ControlExecutionRecord, PluginErrorModel, PluginMode, PluginViolation

DenialMetadataValue = Union[bool, int, float]
"""The only value types a denial metric may have (low cardinality, no text)."""

# A metric name or a code worth exporting: a short ASCII identifier, never prose.
_LABEL = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
# More entries than this means the producer is not sending a few static metrics: drop all.
_MAX_DENIAL_METRICS = 16
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_HTTP_STATUS_MIN, _HTTP_STATUS_MAX = 100, 599


def _label_or_none(value: Any) -> Optional[str]:
    """``value`` if it is an identifier-like label, else None (free text is never kept)."""
    if type(value) is str and _LABEL.fullmatch(value) is not None:
        return value
    return None


def _int_in_range(value: Any, low: int, high: int) -> Optional[int]:
    """``value`` if it is a real int (bool and numeric strings excluded) within [low, high]."""
    if type(value) is int and low <= value <= high:
        return value
    return None


def _is_metric_value(value: Any) -> bool:
    kind = type(value)  # exact types: bool is an int subclass, str subclasses are text
    if kind is bool:
        return True
    if kind is int:
        return _INT64_MIN <= value <= _INT64_MAX
    if kind is float:
        return math.isfinite(value)
    return False


def sanitize_denial_metadata(metadata: Optional[Mapping[str, Any]]) -> dict[str, DenialMetadataValue]:
    """A new dict of the entries of ``metadata`` that are safe denial metrics.

    An entry is kept when its key is a label of 1-64 ASCII letters, digits, ``.``, ``_``
    or ``-`` and its value is a bool, a signed 64-bit int or a finite float. Anything
    that is not a mapping, or a mapping of more than 16 entries, yields ``{}``. The
    types cannot prove a number is not an identifier: producers must not send ids.
    """
    if not isinstance(metadata, Mapping) or len(metadata) > _MAX_DENIAL_METRICS:
        return {}
    return {
        key: value
        for key, value in metadata.items()
        if _label_or_none(key) is not None and _is_metric_value(value)
    }


@dataclass(frozen=True)
class DenialExecutionRecord:
    """A frozen copy of the denying plugin's execution record, minus its free-text fields.

    Same fields as :class:`~cpex.framework.models.ControlExecutionRecord` except
    ``reason`` and ``config_keys``; ``status`` is the plain string value and an
    ``error_code`` that is not a label is dropped.
    """

    plugin_id: str
    plugin_name: str
    plugin_kind: str
    hook_name: str
    mode: PluginMode
    status: str
    requested_allow: Optional[bool]
    effective_allow: bool
    matched: Optional[bool]
    applied: bool
    payload_modified: bool
    extensions_modified: bool
    duration_ns: int
    error_code: Optional[str]

    @classmethod
    def from_execution(cls, execution: ControlExecutionRecord) -> DenialExecutionRecord:
        """Copy the trusted fields of ``execution`` (later changes to it are not seen)."""
        status = execution.status
        return cls(
            plugin_id=execution.plugin_id,
            plugin_name=execution.plugin_name,
            plugin_kind=execution.plugin_kind,
            hook_name=execution.hook_name,
            mode=execution.mode,
            status=str(getattr(status, "value", status)),
            requested_allow=execution.requested_allow,
            effective_allow=execution.effective_allow,
            matched=execution.matched,
            applied=execution.applied,
            payload_modified=execution.payload_modified,
            extensions_modified=execution.extensions_modified,
            duration_ns=execution.duration_ns,
            error_code=_label_or_none(execution.error_code),
        )


@dataclass(frozen=True)
class DenialOutcome:
    """What the framework can safely say about a denial: record, codes and metrics.

    ``violation_code`` is kept only when it is a label, ``http_status_code`` only in
    100-599 and ``mcp_error_code`` only as a signed 32-bit int; ``metadata`` is a
    read-only mapping of sanitized metrics. Reason, description and details of the
    violation are deliberately absent.
    """

    execution: DenialExecutionRecord
    violation_code: Optional[str]
    mcp_error_code: Optional[int]
    http_status_code: Optional[int]
    metadata: Mapping[str, DenialMetadataValue]

    @classmethod
    def from_execution(
        cls,
        execution: ControlExecutionRecord,
        violation: Optional[PluginViolation],
        metadata: Optional[Mapping[str, DenialMetadataValue]],
    ) -> DenialOutcome:
        """Snapshot ``execution``, ``violation`` and the (already sanitized) ``metadata``."""
        if violation is None:
            code, mcp_code, http_code = None, None, None
        else:
            code = _label_or_none(violation.code)
            mcp_code = _int_in_range(violation.mcp_error_code, _INT32_MIN, _INT32_MAX)
            http_code = _int_in_range(violation.http_status_code, _HTTP_STATUS_MIN, _HTTP_STATUS_MAX)
        return cls(
            execution=DenialExecutionRecord.from_execution(execution),
            violation_code=code,
            mcp_error_code=mcp_code,
            http_status_code=http_code,
            metadata=MappingProxyType(dict(metadata or {})),
        )


class PluginViolationError(Exception):
    """A plugin blocked the request and the caller asked for violations as exceptions.

    ``executions`` holds the execution records of the run when the executor raised it,
    and stays None when the exception was raised elsewhere (e.g. by a plugin itself).
    ``denial_outcome`` is set only on errors the executor created for a blocking result
    (see :meth:`attach_denial_outcome`); it stays None on errors raised directly.
    """

    def __init__(self, message: str, violation: Optional[PluginViolation] = None) -> None:
        self.message = message
        self.violation = violation
        self.executions: Optional[list[ControlExecutionRecord]] = None
        self.denial_outcome: Optional[DenialOutcome] = None
        # Set only by _from_framework_denial: it marks the error as the executor's own.
        self._denial_metadata: Optional[dict[str, DenialMetadataValue]] = None
        super().__init__(self.message)

    @classmethod
    def _from_framework_denial(
        cls,
        message: str,
        violation: Optional[PluginViolation],
        denial_metadata: Optional[Mapping[str, Any]],
    ) -> PluginViolationError:
        """The error the executor raises for a plugin result that blocked (executor use only)."""
        error = cls(message, violation)
        error._denial_metadata = sanitize_denial_metadata(denial_metadata)
        return error

    def attach_denial_outcome(self, execution: ControlExecutionRecord) -> None:
        """Record the denying plugin's ``execution`` as this error's outcome, once.

        A no-op for errors not created by the executor and for an error that already
        has an outcome, so an outcome can never be replaced after the fact.
        """
        if self._denial_metadata is None or self.denial_outcome is not None:
            return
        self.denial_outcome = DenialOutcome.from_execution(execution, self.violation, self._denial_metadata)


class PluginError(Exception):
    """A plugin failed (raised, timed out, or could not be used); ``str(exc)`` is its message."""

    def __init__(self, error: PluginErrorModel) -> None:
        self.error = error
        super().__init__(self.error.message)


def convert_exception_to_error(exception: BaseException, plugin_name: str) -> PluginErrorModel:
    """The error model of an arbitrary exception raised by ``plugin_name`` (message = ``repr``)."""
    return PluginErrorModel(message=repr(exception), plugin_name=plugin_name)
