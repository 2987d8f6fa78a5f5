"""Process memory facts for M1: RSS, live Python objects, fds, threads, native handles."""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any


def _proc_status(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _fd_count() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def native_stats() -> dict[str, Any] | None:
    """Live-object counters of our Go core, when the extension offers them.

    Looks for a pybind function named Stats/LiveStats/Live (answering JSON text); the
    upstream pure-Python package has no native part and answers None.
    """
    native = sys.modules.get("cpex._native._native")
    if native is None:
        return None
    for name in ("pybind_Stats", "pybind_LiveStats", "pybind_Live"):
        fn = getattr(native, name, None)
        if fn is None:
            continue
        try:
            raw = fn()
        except Exception as exc:  # report, never break the measurement
            return {"error": repr(exc)}
        if isinstance(raw, tuple):  # (value, error) shapes
            raw = raw[0]
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return {"raw": str(raw)}
        return value if isinstance(value, dict) else {"value": value}
    return None


def snapshot() -> dict[str, Any]:
    gc.collect()
    return {
        "rss_kb": _proc_status("VmRSS"),
        "py_objects": len(gc.get_objects()),
        "fds": _fd_count(),
        "threads": _proc_status("Threads"),
        "native": native_stats(),
    }
