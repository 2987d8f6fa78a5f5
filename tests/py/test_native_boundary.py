"""The extension boundary: JSON strings cross intact, Go errors arrive as exceptions,
and the Go runtime starts only on first use (so pre-fork masters stay safe)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from cpex import _core


def test_version_reports_core_and_go() -> None:
    info = _core.version()
    release = (Path(__file__).resolve().parents[2] / "core" / "VERSION").read_text().strip()
    assert info["core"] == release
    assert info["go"].startswith("go1.")


def test_package_and_core_versions_are_ours_and_agree() -> None:
    from packaging.version import Version

    import cpex

    # Our own release: accepted by the gateway's `cpex>=0.1.2` and the plugins'
    # `cpex>=0.1.3,<0.2`, and different from every upstream release up to 0.1.4.
    assert Version("0.1.4") < Version(cpex.__version__) < Version("0.2")
    assert cpex.__core_version__ == cpex.__version__


@pytest.mark.parametrize(
    "doc",
    [
        {"a": [1, 2.5, "é", None, True]},
        {"nested": {"k": "line\nbreak \u2028 \"quoted\""}},
        [],
        "plain",
    ],
)
def test_json_round_trip_is_lossless(doc: object) -> None:
    out = _core.native().pybind_Echo(orjson.dumps(doc).decode())
    assert orjson.loads(out) == doc


def test_go_error_is_a_python_exception_with_the_message() -> None:
    with pytest.raises(RuntimeError, match="echo: invalid JSON"):
        _core.native().pybind_Echo("{not json")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def test_importing_the_framework_does_not_start_go() -> None:
    proc = _run(
        """
        import sys
        import cpex.framework
        from cpex import _core
        assert not _core.started(), "Go runtime started at import"
        assert "cpex._native" not in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_core_version_attribute_is_lazy() -> None:
    proc = _run(
        """
        import cpex
        from cpex import _core
        assert not _core.started()
        version = cpex.__core_version__
        assert _core.started() and version == _core.version()["core"]
        try:
            cpex.no_such_name
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
