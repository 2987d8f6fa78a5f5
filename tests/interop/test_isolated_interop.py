"""isolated_venv interop with upstream cpex 0.1.4, both directions: our host (the Go core)
against upstream's worker, and upstream's host against our worker.

The plugin's venv installs cpex==0.1.4 from PyPI (its requirements file), so the worker
that answers is upstream's ``cpex/framework/isolated/worker.py``: the capabilities
handshake, load_and_run_hook tasks and errors as upstream writes them. The plugin root
lives in ``.venv-interop-isolated/`` at the top of the repository, so the venv is built
once and then reused through the cache key, as a deployment would. Run with
``make test-interop``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, UPSTREAM, upstream_python
from cpex.framework import GlobalContext, PluginError, TenantPluginManager, ToolPreInvokePayload
from cpex.framework.loader import plugin as loader_plugin

sys.path.insert(0, str(REPO / "tests" / "py"))
from isolated_venvs import plugin_tree, shim_wheel

pytestmark = pytest.mark.interop

ROOT = REPO / ".venv-interop-isolated"


@pytest.fixture
async def manager(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TenantPluginManager]:
    plugins = ROOT / "plugins"
    pkg = plugin_tree(plugins)
    (pkg / "requirements.txt").write_text("\n".join(UPSTREAM["0.1.4"]) + "\n")
    # Upstream's worker allows plugin_dirs under its working directory (ours, inherited).
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(loader_plugin, "ALLOWED_PLUGIN_DIRS", {str(ROOT)})
    entry: dict[str, Any] = {
        "name": "UpShout",
        "kind": "isolated_venv",
        "hooks": ["tool_pre_invoke"],
        "max_content_size": 30_000,
        "config": {"class_name": "myiso.plugin.Shout", "requirements_file": "requirements.txt"},
    }
    path = ROOT / "isolated.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry], "plugin_dirs": [str(plugins)]}))
    m = TenantPluginManager(str(path), timeout=60)
    await m.initialize()
    try:
        yield m
    finally:
        await m.shutdown()


async def call(manager: TenantPluginManager, name: str) -> Any:
    result, _ = await manager.invoke_hook(
        "tool_pre_invoke", ToolPreInvokePayload(name=name, args={"k": 1}), GlobalContext(request_id="req-" + name)
    )
    return result


async def test_upstream_worker_serves_our_host(manager: TenantPluginManager) -> None:
    venv = ROOT / "plugins" / "myiso" / ".venv"
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "cpex" / "framework" / "isolated" / "worker.py").exists()
    assert not (site / "cpex" / "_native").exists(), "the venv holds upstream's pure-Python cpex"

    modified = await call(manager, "abc")
    assert modified.continue_processing
    assert modified.modified_payload is not None and modified.modified_payload.name == "ABC"
    assert modified.metadata["request_id"] == "req-abc"

    blocked = await call(manager, "forbidden")
    assert not blocked.continue_processing
    assert blocked.violation is not None and blocked.violation.code == "FORBID"

    with pytest.raises(PluginError) as info:
        await call(manager, "raise")
    assert "plugin exploded" in str(info.value)

    with pytest.raises(PluginError) as info:  # upstream's worker enforces max_content_size on its answer
        await call(manager, "big")
    assert "max content size" in str(info.value)

    again = await call(manager, "xyz")
    assert again.modified_payload.name == "XYZ", "the stream is still in sync"


async def test_concurrent_callers_share_upstreams_worker(manager: TenantPluginManager) -> None:
    plugin = manager.get_plugin("UpShout")
    assert plugin is not None and plugin.config.kind == "isolated_venv"
    # Calls of many callers at once share the one worker, multiplexed by request_id.
    results = await asyncio.gather(*(call(manager, f"n{i}") for i in range(32)))
    assert [r.modified_payload.name for r in results] == [f"N{i}" for i in range(32)]



UPSTREAM_HOST_SCRIPT = """
import asyncio, json, sys
from cpex.framework import GlobalContext, PluginManager
from cpex.framework.hooks.tools import ToolPreInvokePayload

async def main():
    manager = PluginManager(sys.argv[1], timeout=60)
    await manager.initialize()
    out = []
    try:
        for name in ("abc", "forbidden"):
            result, _ = await manager.invoke_hook(
                "tool_pre_invoke", ToolPreInvokePayload(name=name, args={}), GlobalContext(request_id="r-" + name))
            out.append(result.model_dump(mode="json"))
    finally:
        await manager.shutdown()
    print(json.dumps(out))

asyncio.run(main())
"""


def test_our_worker_serves_upstreams_host(tmp_path: Path) -> None:
    """The other direction: upstream 0.1.4's IsolatedVenvPlugin drives our worker (the
    venv's cpex is this checkout, through a local wheel)."""
    python = upstream_python("0.1.4")
    root = tmp_path / "root"
    plugins = root / "plugins"
    pkg = plugin_tree(plugins)
    (pkg / "requirements.txt").write_text(f"{shim_wheel(tmp_path)}\n")
    # Upstream's host starts `cpex/framework/isolated/worker.py` relative to its working
    # directory: that path is our worker.
    link = root / "cpex" / "framework" / "isolated" / "worker.py"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO / "python" / "cpex" / "framework" / "isolated" / "worker.py")
    entry = {
        "name": "OurWorker",
        "kind": "isolated_venv",
        "hooks": ["tool_pre_invoke"],
        "config": {"class_name": "myiso.plugin.Shout", "requirements_file": "requirements.txt"},
    }
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump({"plugins": [entry], "plugin_dirs": [str(plugins)]}))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [str(python), "-c", UPSTREAM_HOST_SCRIPT, str(config)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    modified, blocked = json.loads(out.stdout.strip().splitlines()[-1])
    assert modified["continue_processing"] and modified["modified_payload"]["name"] == "ABC"
    assert not blocked["continue_processing"] and blocked["violation"]["code"] == "FORBID"
