"""The fail-closed load table tests/cases/loading/fail_closed.yaml against
cpex.framework.loader.plugin.load_failure_fails_closed (tests/go/loading_table_test.go
runs it against core.LoadFailureFailsClosed), and the rule end to end: a Go guard whose
config is bad fails PluginManager.initialize even with fail_on_plugin_error false, while
a Python plugin that cannot be imported is still skipped, as upstream skips it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cpex.framework import PluginManager
from cpex.framework.loader.plugin import load_failure_fails_closed
from cpex.framework.settings import settings
from test_cases import CASES_DIR, read_yaml

ROWS: list[dict[str, Any]] = read_yaml(CASES_DIR / "loading" / "fail_closed.yaml")["kinds"]


@pytest.mark.parametrize("row", ROWS, ids=[r["kind"] for r in ROWS])
def test_load_failure_table(row: dict[str, Any]) -> None:
    assert load_failure_fails_closed(row["kind"]) is row["fails_closed"]


def _config(tmp_path: Path, bad_kind: str, bad_config: str) -> str:
    path = tmp_path / "plugins.yaml"
    path.write_text(
        "plugins:\n"
        "  - {name: ok, kind: builtin/noop, hooks: [tool_pre_invoke]}\n"
        f"  - {{name: bad, kind: {bad_kind}, hooks: [tool_pre_invoke], config: {bad_config}}}\n"
    )
    return str(path)


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "false")
    settings.cache_clear()
    assert settings.fail_on_plugin_error is False


@pytest.mark.usefixtures("lenient")
async def test_a_broken_go_guard_fails_lenient_initialisation(tmp_path: Path) -> None:
    PluginManager.reset()
    manager = PluginManager(_config(tmp_path, "builtin/deny_list", "{words: 5}"))
    with pytest.raises(RuntimeError, match="Plugin initialization failed: bad"):
        await manager.initialize()
    assert not manager.initialized
    PluginManager.reset()


@pytest.mark.usefixtures("lenient")
async def test_a_broken_python_plugin_is_still_skipped(tmp_path: Path) -> None:
    PluginManager.reset()
    manager = PluginManager(_config(tmp_path, "no_such_module.NoSuchPlugin", "{}"))
    await manager.initialize()
    assert manager.initialized and manager.plugin_count == 1
    await manager.shutdown()
    PluginManager.reset()
